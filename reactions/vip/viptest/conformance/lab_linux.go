package conformance

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// LabHarness runs the table in one namespace lab (viptest.Up): the backend
// acts in rm1, rm2 is the other host on the segment, and the system is what
// `ip -o addr show` prints in each.
type LabHarness struct {
	Lab *viptest.Lab
	// VIP is viptest.VIP4 or viptest.VIP6.
	VIP netip.Prefix
	// Make returns a backend for spec acting in the namespace of node.
	Make func(t *testing.T, lab *viptest.Lab, node viptest.Node, spec vip.Spec) engine.Backend
}

// NewLabHarness builds a lab for the whole table; it goes when t ends.
func NewLabHarness(t *testing.T, p netip.Prefix, newBackend func(t *testing.T, lab *viptest.Lab, node viptest.Node, spec vip.Spec) engine.Backend) *LabHarness {
	t.Helper()
	return &LabHarness{Lab: viptest.Up(t), VIP: p, Make: newBackend}
}

func (h *LabHarness) Spec() vip.Spec {
	return vip.Spec{Name: "rm", Prefix: h.VIP, Interface: viptest.Interface}
}

func (h *LabHarness) Setup(t *testing.T, s State) string {
	t.Helper()
	for _, n := range []viptest.Node{h.Lab.RM1, h.Lab.RM2} {
		h.Lab.MustExec(t, n.Name, "ip", "link", "set", viptest.Interface, "up")
		// Taking the interface down flushes its IPv6 addresses.
		h.Lab.MustExec(t, n.Name, "ip", "addr", "replace", n.Addr6.String(), "dev", viptest.Interface, "nodad")
		for _, p := range h.vipAddrs(t, n, true) {
			h.Lab.MustExec(t, n.Name, "ip", "addr", "del", p.String(), "dev", viptest.Interface)
		}
	}
	add := func(n viptest.Node, p netip.Prefix) {
		argv := []string{"ip", "addr", "add", p.String(), "dev", viptest.Interface}
		if p.Addr().Is6() {
			// Held at once, as a holder's address is, not tentative.
			argv = append(argv, "nodad")
		}
		h.Lab.MustExec(t, n.Name, argv...)
	}
	switch s {
	case Present:
		add(h.Lab.RM1, Configured.Prefix(h.VIP))
	case OtherPrefix:
		add(h.Lab.RM1, HandMade.Prefix(h.VIP))
	case InterfaceDown:
		h.Lab.MustExec(t, h.Lab.RM1.Name, "ip", "link", "set", viptest.Interface, "down")
	case Elsewhere:
		add(h.Lab.RM2, Configured.Prefix(h.VIP))
	}
	return ""
}

func (h *LabHarness) New(t *testing.T) engine.Backend {
	return h.Make(t, h.Lab, h.Lab.RM1, h.Spec())
}

func (h *LabHarness) System(t *testing.T) System {
	t.Helper()
	return System{Here: h.vipAddrs(t, h.Lab.RM1, false), Elsewhere: len(h.vipAddrs(t, h.Lab.RM2, false)) > 0}
}

// vipAddrs are the VIP's addresses on node's interface, any prefix length;
// those whose duplicate address detection failed only with dadfailed (the
// kernel does not use them).
func (h *LabHarness) vipAddrs(t *testing.T, n viptest.Node, dadfailed bool) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, a := range h.Lab.Addresses(t, n.Name) {
		s, failed := strings.CutSuffix(a, " dadfailed")
		if failed && !dadfailed {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			t.Fatalf("ip addr in %s lists %q", n.Name, a)
		}
		if p.Addr() == h.VIP.Addr() {
			out = append(out, p)
		}
	}
	return sorted(out)
}

// InNamespace runs every call of b on a thread inside ns, so that the
// programs a command backend starts act in the lab's namespace. It hides
// Verify: wrap only backends without one.
func InNamespace(ns netns.NsHandle, b engine.Backend) engine.Backend {
	return nsBackend{ns: ns, b: b}
}

type nsBackend struct {
	ns netns.NsHandle
	b  engine.Backend
}

func (n nsBackend) Observe(ctx context.Context) (reactions.VIPState, error) {
	var st reactions.VIPState
	err := viptest.RunIn(n.ns, func() error {
		var err error
		st, err = n.b.Observe(ctx)
		return err
	})
	return st, err
}

func (n nsBackend) Enable(ctx context.Context, force bool) error {
	return viptest.RunIn(n.ns, func() error { return n.b.Enable(ctx, force) })
}

func (n nsBackend) Disable(ctx context.Context) error {
	return viptest.RunIn(n.ns, func() error { return n.b.Disable(ctx) })
}

// IPv6OnePrefix is how Linux answers other-prefix/enable for IPv6.
var IPv6OnePrefix = Deviation{
	Want: Want{Present: true, Here: []Held{HandMade}},
	Why:  "Linux keys an IPv6 address by the address alone, so enabling the VIP that a person added as a /128 leaves that one address, at /128 (for IPv4 the /24 is added beside the /32)",
}
