package viptest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/reactions/vip/netnsrun"
)

// Interface is the name of every node's lab interface.
const Interface = "vip0"

// The VIPs the tests move between rm1 and rm2.
var (
	VIP4 = netip.MustParsePrefix("192.0.2.100/24")
	VIP6 = netip.MustParsePrefix("2001:db8::100/64")
)

// Node is one namespace of the lab.
type Node struct {
	// Name is the network namespace, as `ip netns exec` takes it.
	Name  string
	Addr4 netip.Prefix
	Addr6 netip.Prefix
	MAC   net.HardwareAddr
}

// Lab is one running copy of the lab.
type Lab struct {
	Prefix string
	// Bridge is the namespace that holds the bridge.
	Bridge string
	RM1    Node
	RM2    Node
	Client Node
}

// execTimeout bounds every command the lab runs, so a hung tool fails the
// test instead of hanging it.
const execTimeout = 30 * time.Second

var (
	seq        atomic.Int64
	sweepStale sync.Once
	staleName  = regexp.MustCompile(`^vl([0-9]+)-[0-9]+-(rm1|rm2|client|br)$`)
)

// RequireRoot skips the test when the lab cannot be built (not root, no
// iproute2) unless CI=true, where it fails instead: CI must run these.
func RequireRoot(t testing.TB) {
	t.Helper()
	var missing error
	if os.Geteuid() != 0 {
		missing = errors.New("not root")
	} else if _, err := exec.LookPath("ip"); err != nil {
		missing = errors.New("ip (iproute2) not found")
	}
	agenttest.Require(t, "root and network namespaces", missing)
}

// RequireProgram skips the test when program is not installed, naming the
// Debian package that brings it, unless CI=true, where it fails instead.
func RequireProgram(t testing.TB, program, debianPackage string) {
	t.Helper()
	agenttest.RequireProgram(t, program, debianPackage)
}

// ScriptPath is the absolute path of scripts/lab.sh in this source tree.
func ScriptPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "scripts", "lab.sh")
}

// Up builds a fresh lab under a prefix unique to this process and test, and
// removes it when the test ends, whether it passed or not.
func Up(t testing.TB) *Lab {
	t.Helper()
	RequireRoot(t)
	sweepStale.Do(removeStale)
	prefix := fmt.Sprintf("vl%d-%d-", os.Getpid(), seq.Add(1))
	l := &Lab{
		Prefix: prefix,
		Bridge: prefix + "br",
		RM1:    Node{Name: prefix + "rm1", Addr4: netip.MustParsePrefix("192.0.2.11/24"), Addr6: netip.MustParsePrefix("2001:db8::11/64")},
		RM2:    Node{Name: prefix + "rm2", Addr4: netip.MustParsePrefix("192.0.2.12/24"), Addr6: netip.MustParsePrefix("2001:db8::12/64")},
		Client: Node{Name: prefix + "client", Addr4: netip.MustParsePrefix("192.0.2.20/24"), Addr6: netip.MustParsePrefix("2001:db8::20/64")},
	}
	// Registered before building, so that a half-built lab goes too.
	t.Cleanup(func() {
		if out, err := runScript("down", prefix); err != nil {
			t.Errorf("lab down %s: %v\n%s", prefix, err, out)
		}
	})
	if out, err := runScript("up", prefix); err != nil {
		t.Fatalf("lab up %s: %v\n%s", prefix, err, out)
	}
	for _, n := range []*Node{&l.RM1, &l.RM2, &l.Client} {
		mac, err := interfaceMAC(n.Name)
		if err != nil {
			t.Fatal(err)
		}
		n.MAC = mac
	}
	return l
}

func runScript(verb, prefix string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	return run(ctx, "bash", ScriptPath(), verb, prefix)
}

// run runs argv with LC_ALL=C and returns its combined output; an error
// carries argv and the output. (Not reactions/command: its own tests use
// this package.)
func run(ctx context.Context, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%q: %w: %s", argv, err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func interfaceMAC(ns string) (net.HardwareAddr, error) {
	h, err := netns.GetFromName(ns)
	if err != nil {
		return nil, fmt.Errorf("open namespace %s: %w", ns, err)
	}
	defer h.Close()
	nh, err := netlink.NewHandleAt(h)
	if err != nil {
		return nil, fmt.Errorf("netlink in %s: %w", ns, err)
	}
	defer nh.Close()
	link, err := nh.LinkByName(Interface)
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", Interface, ns, err)
	}
	return link.Attrs().HardwareAddr, nil
}

// removeStale deletes the namespaces of labs whose test process is gone
// (a run killed before its cleanup ran).
func removeStale() {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		m := staleName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); errors.Is(err, os.ErrNotExist) {
			_ = exec.Command("ip", "netns", "del", e.Name()).Run()
		}
	}
}

// Exec runs argv in the namespace ns (a Node's Name) and returns its
// combined output. It fails with the output when the command fails.
func (l *Lab) Exec(ns string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	return run(ctx, append([]string{"ip", "netns", "exec", ns}, argv...)...)
}

// MustExec is Exec that fails the test on error.
func (l *Lab) MustExec(t testing.TB, ns string, argv ...string) string {
	t.Helper()
	out, err := l.Exec(ns, argv...)
	if err != nil {
		t.Fatalf("in %s: %v", ns, err)
	}
	return out
}

// Namespace opens a handle on the namespace ns, closed when the test ends.
func (l *Lab) Namespace(t testing.TB, ns string) netns.NsHandle {
	t.Helper()
	h, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatalf("open namespace %s: %v", ns, err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// RunIn runs f on an OS thread switched into ns and waits for it; see
// netnsrun.Run.
func RunIn(ns netns.NsHandle, f func() error) error { return netnsrun.Run(ns, f) }

// Addresses lists the addresses on the lab interface of namespace ns as
// `ip -o addr show` prints them, e.g. "192.0.2.100/24"; an address whose
// duplicate address detection failed gets a " dadfailed" suffix.
func (l *Lab) Addresses(t testing.TB, ns string) []string {
	t.Helper()
	out := l.MustExec(t, ns, "ip", "-o", "addr", "show", "dev", Interface)
	var addrs []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] != "inet" && f[i] != "inet6" {
				continue
			}
			a := f[i+1]
			if slices.Contains(f[i+2:], "dadfailed") {
				a += " dadfailed"
			}
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// HasAddress reports whether `ip -o addr show` in ns lists p (and its
// duplicate address detection did not fail).
func (l *Lab) HasAddress(t testing.TB, ns string, p netip.Prefix) bool {
	t.Helper()
	return slices.Contains(l.Addresses(t, ns), p.String())
}

// NeighbourMAC is the link-layer address ns has cached for ip on the lab
// interface, "" when it has none.
func (l *Lab) NeighbourMAC(t testing.TB, ns string, ip netip.Addr) string {
	t.Helper()
	out := l.MustExec(t, ns, "ip", "neigh", "show", ip.String(), "dev", Interface)
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "lladdr" {
			return f[i+1]
		}
	}
	return ""
}

// WaitNeighbourMAC polls ns's neighbour table until ip maps to mac or
// within runs out, and returns the last MAC seen.
func (l *Lab) WaitNeighbourMAC(t testing.TB, ns string, ip netip.Addr, mac net.HardwareAddr, within time.Duration) (string, bool) {
	t.Helper()
	var got string
	ok := agenttest.Poll(within, func() bool {
		got = l.NeighbourMAC(t, ns, ip)
		return got == mac.String()
	})
	return got, ok
}

// Ping sends ICMP echoes (v4 or v6) from the namespace ns to ip, one
// every 200 ms, and fails the test unless a reply comes within two
// seconds. It is Go, not the ping program; like ping, it makes the kernel
// in ns resolve ip's neighbour entry.
func (l *Lab) Ping(t testing.TB, ns string, ip netip.Addr) {
	t.Helper()
	if err := RunIn(l.Namespace(t, ns), func() error { return echo(ip, 2*time.Second) }); err != nil {
		t.Fatalf("ping %s from %s: %v", ip, ns, err)
	}
}

func echo(ip netip.Addr, within time.Duration) error {
	network, listen, proto := "ip4:icmp", "0.0.0.0", 1
	var request, reply icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	if ip.Is6() {
		network, listen, proto = "ip6:ipv6-icmp", "::", 58
		request, reply = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}
	c, err := icmp.ListenPacket(network, listen)
	if err != nil {
		return err
	}
	defer c.Close()
	id := os.Getpid() & 0xffff
	deadline := time.Now().Add(within)
	buf := make([]byte, 1500)
	var lastErr error
	for time.Now().Before(deadline) {
		seqNo := int(seq.Add(1) & 0xffff)
		// The kernel fills in the ICMPv6 checksum on raw sockets.
		b, err := (&icmp.Message{Type: request, Body: &icmp.Echo{ID: id, Seq: seqNo, Data: []byte("vipagent lab")}}).Marshal(nil)
		if err != nil {
			return err
		}
		if _, err := c.WriteTo(b, &net.IPAddr{IP: ip.AsSlice()}); err != nil {
			return err
		}
		wait := time.Now().Add(200 * time.Millisecond)
		if wait.After(deadline) {
			wait = deadline
		}
		if err := c.SetReadDeadline(wait); err != nil {
			return err
		}
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				lastErr = err
				break
			}
			m, err := icmp.ParseMessage(proto, buf[:n])
			if err != nil || m.Type != reply {
				continue
			}
			if e, ok := m.Body.(*icmp.Echo); ok && e.ID == id && from.String() == ip.String() {
				return nil
			}
		}
	}
	return fmt.Errorf("no echo reply within %s: %w", within, lastErr)
}
