package chaos

import (
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipagent/vipagent/reactions/vip/viptest"
	"github.com/vipagent/vipagent/reactions/vip/viptest/winhost"
)

var (
	backendFlag  = flag.String("chaos.backend", "netlink", "the VIP's backend: netlink (the Linux lab), or nlb or netsh against the Windows host model (reactions/vip/viptest/winhost)")
	winScaleFlag = flag.Float64("chaos.winscale", 0.01, "with nlb or netsh: the model's clock, as a factor of Windows' (0.01 makes netsh's 45 s 450 ms)")
	wineFlag     = flag.String("chaos.wine", "", "with nlb or netsh: a directory holding vipagent.exe and winfake.exe, built for Windows; the agents and `failover` then run under Wine (scripts/chaos.sh --wine prepares it)")
)

// winPath is an absolute Linux path as Wine's drive Z: shows it.
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// windows reports whether the schedule runs on a Windows backend against
// the host model.
func windows(backend string) bool { return backend == "nlb" || backend == "netsh" }

// labOptions are what every schedule's lab is built with.
type labOptions struct {
	backend string
	// winfake is the built fake netsh/nlb (Windows backends only).
	winfake string
	scale   float64
	// wine is the directory of vipagent.exe and winfake.exe when the
	// agents run under Wine.
	wine string
}

// wineExe is vipagent.exe under Wine, "" when the agents run natively.
func (o labOptions) wineExe() string {
	if o.wine == "" {
		return ""
	}
	return filepath.Join(o.wine, "vipagent.exe")
}

// newLabOptions reads the flags and builds the fake netsh/nlb once for
// every schedule when a Windows backend is asked for.
func newLabOptions(t *testing.T) labOptions {
	o := labOptions{backend: *backendFlag, scale: *winScaleFlag, wine: *wineFlag}
	switch {
	case o.backend == "netlink" && o.wine != "":
		t.Fatal("-chaos.wine needs -chaos.backend nlb or netsh")
	case o.backend == "netlink":
		return o
	case !windows(o.backend):
		t.Fatalf("-chaos.backend=%q: want netlink, nlb or netsh", o.backend)
	case o.scale < 0 || o.scale > 1:
		t.Fatalf("-chaos.winscale=%v: want a factor between 0 and 1", o.scale)
	}
	if o.wine != "" {
		// Every program start under Wine takes a good part of a second
		// (seconds on a loaded machine), and a move runs several.
		vipTimeout, stepTimeout, cliWait = 30*time.Second, 40*time.Second, 40*time.Second
		o.winfake = filepath.Join(o.wine, "winfake.exe")
		return o
	}
	bin, err := winhost.Build(t.TempDir(), "linux")
	if err != nil {
		t.Fatal(err)
	}
	o.winfake = bin
	return o
}

// winLab is the Windows host model of a schedule: one model file that the
// fake netsh and nlb of both nodes change, and a mirror that plays
// Windows' network stack, putting the VIP on the namespace's interface of
// every host the model says holds it (the NLB host takes traffic, or the
// adapter has the address) and announcing it, so the client's probes and
// neighbour entry follow the model.
type winLab struct {
	backend string
	model   winhost.File
	// progs are each node's installed fake netsh and nlb.
	progs map[string][2]string

	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	errs []string
	// partitioned and down are the faults that cut hosts off (guarded
	// by mu): the model's duplicate address detection does not see past
	// them.
	partitioned bool
	down        map[string]bool
}

// cutOff records a partition ("both") or one node's link going down (cut
// true) or healing, and tells the model which hosts reach no other.
func (w *winLab) cutOff(node string, cut bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if node == "both" {
		w.partitioned = cut
	} else {
		if w.down == nil {
			w.down = map[string]bool{}
		}
		w.down[node] = cut
	}
	_, err := w.model.Update(func(m *winhost.Model, _ time.Time) error {
		for name, h := range m.Hosts {
			h.Isolated = w.partitioned || w.down[name]
		}
		return nil
	})
	return err
}

// newWinLab installs the fakes of both nodes and a fresh model: no VIP
// anywhere and NLB stopped on both hosts, on a clock scaled by scale,
// its draws seeded by seed.
//
// path turns a path into the form the agents and fakes see (Windows' under
// Wine).
func newWinLab(t *testing.T, bin, backend, dir string, seed uint64, scale float64, path func(string) string) *winLab {
	w := &winLab{backend: backend, model: winhost.File(filepath.Join(dir, "winhost-model.json")), progs: map[string][2]string{}}
	cfg := winhost.DefaultConfig()
	cfg.Seed, cfg.Scale = seed, scale
	m := &winhost.Model{Config: cfg, Hosts: map[string]*winhost.Host{}}
	for i, name := range []string{"rm1", "rm2"} {
		netsh, nlb, err := winhost.Install(bin, filepath.Join(dir, name, "windows"), path(string(w.model)), name)
		if err != nil {
			t.Fatal(err)
		}
		w.progs[name] = [2]string{path(netsh), path(nlb)}
		m.Hosts[name] = &winhost.Host{Member: i + 1, NLB: winhost.Stopped, Adapters: map[string][]string{viptest.Interface: nil}}
	}
	if err := w.model.Create(m); err != nil {
		t.Fatal(err)
	}
	return w
}

// configFor is the VIP backend block of node's configuration.
func (w *winLab) configFor(node string) string {
	if w.backend == "nlb" {
		return fmt.Sprintf("backend: nlb\n    options: {program: %q, cluster: %s}", w.progs[node][1], viptest.VIP4.Addr())
	}
	return fmt.Sprintf("backend: netsh\n    options: {netsh_path: %q, store: active}", w.progs[node][0])
}

// holders lists the hosts that hold the VIP in the model.
func (w *winLab) holders() ([]string, error) {
	m, err := w.model.Read()
	if err != nil {
		return nil, err
	}
	return m.Holders(w.backend == "nlb", viptest.Interface, viptest.VIP4.String()), nil
}

// mirror starts copying the model into the lab every 10 ms until Close.
func (w *winLab) mirror(lab *viptest.Lab, nodes map[string]*node) {
	w.stop, w.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(w.done)
		on := map[string]bool{}
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
			hs, err := w.holders()
			if err != nil {
				w.fail(err.Error())
				continue
			}
			for _, name := range []string{"rm1", "rm2"} {
				want := slices.Contains(hs, name)
				if want == on[name] {
					continue
				}
				ns := nodes[name].lab.Name
				verb := "del"
				if want {
					verb = "add"
				}
				if out, err := lab.Exec(ns, "ip", "addr", verb, viptest.VIP4.String(), "dev", viptest.Interface); err != nil {
					w.fail(fmt.Sprintf("mirror %s on %s: %v %s", verb, name, err, out))
					continue
				}
				on[name] = want
				if want {
					// Windows announces an address it adds (duplicate
					// address detection); NLB answers for the cluster.
					lab.Exec(ns, "arping", "-q", "-U", "-c", "1", "-w", "1", "-I", viptest.Interface, viptest.VIP4.Addr().String())
				}
			}
		}
	}()
}

func (w *winLab) fail(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.errs) < 5 {
		w.errs = append(w.errs, msg)
	}
}

// Close stops the mirror and returns what went wrong in it.
func (w *winLab) Close() []string {
	if w.stop != nil {
		close(w.stop)
		<-w.done
		w.stop = nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.errs
}
