package netsh

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/viptest/conformance"
	"github.com/vipagent/vipagent/reactions/vip/viptest/winhost"
)

func init() { conformance.RunWinFake() }

// winHarness runs the table against the Windows host model: the backend
// runs the model's fake netsh, and looks at the model's adapter where on
// Windows it would look at the interface.
type winHarness struct {
	w   *conformance.WinHost
	vip netip.Prefix
}

func (h winHarness) Spec() vip.Spec {
	return vip.Spec{Name: "rm-vip", Prefix: h.vip, Interface: conformance.Adapter}
}

func (h winHarness) Setup(t *testing.T, s conformance.State) string {
	p := h.Spec().Prefix
	var here, there []string
	switch s {
	case conformance.Present:
		here = []string{p.String()}
	case conformance.OtherPrefix:
		here = []string{conformance.HandMade.Prefix(p).String()}
	case conformance.Elsewhere:
		there = []string{p.String()}
	case conformance.InterfaceDown:
		return "the Windows host model has no adapter state"
	}
	h.w.Reset(t, here, there, winhost.Stopped, winhost.Stopped)
	return ""
}

func (h winHarness) New(t *testing.T) engine.Backend {
	b, err := New(h.Spec(), map[string]any{"netsh_path": h.w.Netsh})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	b.observe = h.observe
	return b
}

// observe reads Here's adapter in the model, with the state Windows' IP
// Helper API gives: duplicate for an address the model's duplicate
// address detection refused, preferred otherwise.
func (h winHarness) observe(ctx context.Context, ifname string, addr netip.Addr) (observation, error) {
	if err := ctx.Err(); err != nil {
		return observation{}, err
	}
	m, err := h.w.Model.Read()
	if err != nil {
		return observation{}, err
	}
	here := m.Hosts[conformance.Here]
	addrs := here.Adapters[ifname]
	o := observation{Seen: strings.Join(addrs, ", ")}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a); err == nil && p.Addr() == addr {
			o.Configured, o.DAD = true, dadPreferred
			if slices.Contains(here.Duplicate[ifname], a) {
				o.DAD = dadDuplicate
			}
		}
	}
	return o, nil
}

func (h winHarness) System(t *testing.T) conformance.System {
	m := h.w.Read(t)
	addr := h.Spec().Prefix.Addr()
	return conformance.System{
		Here:      conformance.AddrsOf(t, m, conformance.Here, addr),
		Elsewhere: len(conformance.AddrsOf(t, m, conformance.There, addr)) > 0,
	}
}

// TestConformance runs the backends' common table against the Windows host
// model's fake netsh, for both address families, on Linux and under Wine.
func TestConformance(t *testing.T) {
	refused := conformance.Want{Err: reactions.ErrDuplicateAddress, Present: false, Here: []conformance.Held{conformance.Configured}, Elsewhere: true}
	d := conformance.Differences{
		Deviate: map[string]conformance.Deviation{
			"elsewhere/enable": {
				Want: refused,
				Why:  "Windows keeps an address its duplicate address detection refused configured, marked duplicate and never used; the next enable deletes it before adding it again",
			},
			"elsewhere/enable-force": {
				Want: refused,
				Why:  "force changes nothing on Windows: its duplicate address detection refuses the address whatever the caller asks, and this backend does not probe (Verify reads Windows' verdict)",
			},
			"other-prefix/enable": {
				Want: conformance.Want{Present: true, Here: []conformance.Held{conformance.HandMade}},
				Why:  "Windows keeps one prefix length per address: netsh refuses to add an address that is configured (\"The object already exists.\"), and the backend, finding it there, succeeds",
			},
		},
	}
	w := conformance.NewWinHost(t)
	for _, p := range []string{"192.0.2.100/24", "2001:db8::100/64"} {
		t.Run(p, func(t *testing.T) {
			h := winHarness{w: w, vip: netip.MustParsePrefix(p)}
			conformance.Run(t, h, d)
			conformance.RunSequences(t, h, 1, 2, 10)
		})
	}
}
