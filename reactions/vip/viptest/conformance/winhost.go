package conformance

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vipagent/vipagent/reactions/vip/viptest/winhost"
)

// The Windows host model's hosts and adapter for the netsh and nlb tables:
// the backend acts on Here (NLB member 1); There is the other host on the
// segment (member 2).
const (
	Here    = "here"
	There   = "there"
	Adapter = "Ethernet 2"
)

// WinHost is the Windows host model (package winhost) as the netsh and nlb
// harnesses use it: the running test binary installed as Here's netsh and
// nlb, on a clock that takes no time and with no failure drawn, so every
// case is the same on Linux and under Wine.
type WinHost struct {
	Model winhost.File
	// Netsh and NLB are Here's installed fakes.
	Netsh, NLB string
}

// NewWinHost installs the fakes for a whole table; the test package's init
// must call RunWinFake, so that the installed copies act as the fakes.
func NewWinHost(t *testing.T) *WinHost {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w := &WinHost{Model: winhost.File(filepath.Join(dir, "model.json"))}
	w.Netsh, w.NLB, err = winhost.Install(exe, filepath.Join(dir, Here), string(w.Model), Here)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// RunWinFake goes in an init function of a test package that uses
// NewWinHost: when this process is a copy NewWinHost installed (named
// netsh, nlb or wlbs, next to the model's sidecar), it runs as that fake
// and exits. An init function runs before TestMain, so a package whose
// TestMain has fakes of its own under the same names keeps them: those
// are installed without the sidecar.
func RunWinFake() {
	exe, err := os.Executable()
	if err != nil || !winhost.Fake(exe) {
		return
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(exe), winhost.SidecarName)); err != nil {
		return
	}
	os.Exit(winhost.Main(exe, os.Args[1:], os.Stdout, os.Stderr))
}

// Reset writes a fresh model: Here and There with the addresses given on
// their Adapter and in the NLB states given.
func (w *WinHost) Reset(t *testing.T, hereAddrs, thereAddrs []string, hereNLB, thereNLB string) {
	t.Helper()
	m := &winhost.Model{
		Config: winhost.Config{Seed: 1, Scale: 0},
		Hosts: map[string]*winhost.Host{
			Here:  {Member: 1, NLB: hereNLB, Adapters: map[string][]string{Adapter: hereAddrs}},
			There: {Member: 2, NLB: thereNLB, Adapters: map[string][]string{Adapter: thereAddrs}},
		},
	}
	if err := w.Model.Create(m); err != nil {
		t.Fatal(err)
	}
}

// Read is the model as of now.
func (w *WinHost) Read(t *testing.T) *winhost.Model {
	t.Helper()
	m, err := w.Model.Read()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// AddrsOf are the addresses of host's Adapter that are addr, at any
// prefix length.
func AddrsOf(t *testing.T, m *winhost.Model, host string, addr netip.Addr) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, a := range m.Hosts[host].Adapters[Adapter] {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			t.Fatalf("model: %s's %s has %q", host, Adapter, a)
		}
		if p.Addr() == addr {
			out = append(out, p)
		}
	}
	return sorted(out)
}

// TakesTraffic reports whether host's NLB takes new traffic in m.
func TakesTraffic(m *winhost.Model, host string) bool {
	return slices.Contains(m.Holders(true, Adapter, ""), host)
}
