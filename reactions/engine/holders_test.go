package engine_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
)

// clusterBackend holds the VIP with other hosts of its cluster (holders,
// as NLB's converged list counts them); Enable makes it the only one.
type clusterBackend struct {
	mu      sync.Mutex
	holders int
	enables int
}

func (c *clusterBackend) Observe(context.Context) (reactions.VIPState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return reactions.VIPState{Present: true, Holders: c.holders}, nil
}

func (c *clusterBackend) Enable(context.Context, bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.enables++
	c.holders = 1
	return nil
}

func (c *clusterBackend) Disable(context.Context) error { return nil }

// An enable on a node that holds the VIP together with another host of its
// cluster acts (and verifies) instead of calling that "already so"; alone,
// it is unchanged.
func TestEnableWithOtherHoldersActs(t *testing.T) {
	for _, tt := range []struct {
		holders     int
		wantOutcome reactions.Outcome
		wantEnables int
	}{
		{holders: 2, wantOutcome: reactions.OutcomeChanged, wantEnables: 1},
		{holders: 1, wantOutcome: reactions.OutcomeUnchanged, wantEnables: 0},
		{holders: 0, wantOutcome: reactions.OutcomeUnchanged, wantEnables: 0}, // no cluster view
	} {
		b := &clusterBackend{holders: tt.holders}
		h := newHarness(t, b, nil)
		ev, _ := h.fire(reactions.Alarm{Condition: "RM1_Started"})
		if diff := cmp.Diff([]reactions.Outcome{tt.wantOutcome}, outcomes(ev)); diff != "" {
			t.Errorf("holders %d: outcomes (-want +got):\n%s", tt.holders, diff)
		}
		if b.enables != tt.wantEnables {
			t.Errorf("holders %d: %d enables, want %d", tt.holders, b.enables, tt.wantEnables)
		}
	}
}
