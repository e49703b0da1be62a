package netlinkvip

import (
	"net/netip"
	"testing"

	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
	"github.com/vipagent/vipagent/reactions/vip/viptest/conformance"
)

// TestConformance runs the backends' common table in a namespace lab, for
// both address families.
func TestConformance(t *testing.T) {
	for _, p := range []netip.Prefix{viptest.VIP4, viptest.VIP6} {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			h := conformance.NewLabHarness(t, p, func(t *testing.T, lab *viptest.Lab, node viptest.Node, spec vip.Spec) engine.Backend {
				b, err := NewInNamespace(spec, map[string]any{"garp_count": 1, "probe_timeout": "100ms"}, lab.Namespace(t, node.Name))
				if err != nil {
					t.Fatalf("NewInNamespace: %v", err)
				}
				t.Cleanup(func() {
					if err := b.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				})
				return b
			})
			var d conformance.Differences
			if p.Addr().Is6() {
				d.Deviate = map[string]conformance.Deviation{"other-prefix/enable": conformance.IPv6OnePrefix}
			}
			conformance.Run(t, h, d)
			conformance.RunSequences(t, h, 1, 4, 15)
		})
	}
}
