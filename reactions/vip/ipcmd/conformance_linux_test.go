package ipcmd

import (
	"net/netip"
	"testing"

	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
	"github.com/vipagent/vipagent/reactions/vip/viptest/conformance"
)

// TestConformance runs the backends' common table in a namespace lab, for
// both address families, with the real ip and arping.
func TestConformance(t *testing.T) {
	for _, p := range []netip.Prefix{viptest.VIP4, viptest.VIP6} {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			viptest.RequireProgram(t, "arping", "iputils-arping")
			h := conformance.NewLabHarness(t, p, func(t *testing.T, lab *viptest.Lab, node viptest.Node, spec vip.Spec) engine.Backend {
				b, err := New(spec, map[string]any{"garp_count": 1})
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return conformance.InNamespace(lab.Namespace(t, node.Name), b)
			})
			var d conformance.Differences
			if p.Addr().Is6() {
				d.Deviate = map[string]conformance.Deviation{
					"other-prefix/enable": conformance.IPv6OnePrefix,
					"interface-down/enable-force": {
						Want: conformance.Want{Present: true, Here: []conformance.Held{conformance.Configured}},
						Why:  "ip has no tool to announce an IPv6 address, so a forced enable has nothing to send that could fail: it adds the address to the down interface and succeeds",
					},
				}
			}
			conformance.Run(t, h, d)
			// ip and arping take a second an enable: a short sequence.
			conformance.RunSequences(t, h, 1, 1, 8)
		})
	}
}
