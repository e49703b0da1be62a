package nlb

import (
	"net/netip"
	"testing"

	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/viptest/conformance"
	"github.com/vipagent/vipagent/reactions/vip/viptest/winhost"
)

func init() { conformance.RunWinFake() }

// winHarness runs the table against the Windows host model's NLB cluster:
// the VIP is held where the NLB host takes traffic.
type winHarness struct {
	w *conformance.WinHost
}

func (h winHarness) Spec() vip.Spec {
	return vip.Spec{Name: "rm-vip", Prefix: netip.MustParsePrefix("192.0.2.100/24"), Interface: conformance.Adapter, MemberID: 1}
}

func (h winHarness) Setup(t *testing.T, s conformance.State) string {
	here, there := winhost.Stopped, winhost.Stopped
	switch s {
	case conformance.Present:
		here = winhost.Converged
	case conformance.Elsewhere:
		there = winhost.Converged
	case conformance.OtherPrefix:
		return "an NLB cluster's address has no per-host prefix length"
	case conformance.InterfaceDown:
		return "the Windows host model has no disconnected NLB host"
	}
	h.w.Reset(t, nil, nil, here, there)
	return ""
}

func (h winHarness) New(t *testing.T) engine.Backend {
	b, err := New(h.Spec(), map[string]any{"program": h.w.NLB})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

// System is the cluster as NLB sees it: the VIP is here while this host
// takes traffic, at its configured prefix.
func (h winHarness) System(t *testing.T) conformance.System {
	m := h.w.Read(t)
	var sys conformance.System
	if conformance.TakesTraffic(m, conformance.Here) {
		sys.Here = []netip.Prefix{h.Spec().Prefix}
	}
	sys.Elsewhere = conformance.TakesTraffic(m, conformance.There)
	return sys
}

// TestConformance runs the backends' common table against the Windows host
// model's fake nlb.exe, on Linux and under Wine.
func TestConformance(t *testing.T) {
	bothConverged := conformance.Want{Err: ErrBothConverged, Present: false, Elsewhere: true}
	h := winHarness{w: conformance.NewWinHost(t)}
	conformance.Run(t, h, conformance.Differences{
		Deviate: map[string]conformance.Deviation{
			"elsewhere/enable": {
				Want: bothConverged,
				Why:  "NLB has no duplicate-address probe: this host starts, Verify sees the other host converged, asks its agent to stop it (none here) and stops this host again, failing with ErrBothConverged, which the engine retries",
			},
			"elsewhere/enable-force": {
				Want: bothConverged,
				Why:  "force only skips waiting for a remembered other host; two converged hosts would split the traffic, so the check after the start still stops this host again",
			},
		},
	})
	conformance.RunSequences(t, h, 1, 2, 10)
}
