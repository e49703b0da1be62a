package reconcile_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/peer"
	"github.com/vipagent/vipagent/agent/reconcile"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/fake"
)

// pairRM2 is rm2 as rm1's engine and reconciler see it: it holds the VIP,
// applies the steps it is sent and, while observed, lets a hook run (a
// move accepted while the pass looks at it).
type pairRM2 struct {
	mu      sync.Mutex
	present bool
	steps   []reactions.Step
	during  func()
}

func (p *pairRM2) Do(ctx context.Context, node string, s reactions.Step, _ engine.PeerRequest) (reactions.StepResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.steps = append(p.steps, s)
	want := s.Action == reactions.ActionEnable
	out := reactions.OutcomeChanged
	if p.present == want {
		out = reactions.OutcomeUnchanged
	}
	p.present = want
	return reactions.StepResult{Outcome: out, StartedAt: time.Now().UTC()}, nil
}

func (p *pairRM2) VIP(ctx context.Context, node, name string) (peer.VIP, error) {
	p.mu.Lock()
	during := p.during
	p.during = nil
	p.mu.Unlock()
	if during != nil {
		during()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return peer.VIP{State: reactions.VIPState{Present: p.present}}, nil
}

// A repair is decided from what a pass read; a move asked while the pass
// was looking is newer than that and wins: the repair does not undo it.
// Were the repair's intent the moment it is submitted, a pass slowed by
// the peer (up to the observe timeout) would revert a move an operator made
// meanwhile.
func TestRepairDoesNotUndoANewerMove(t *testing.T) {
	clocks := map[string]func() time.Time{
		"fine": time.Now,
		// Windows' wall clock advances in ticks: the move and the pass
		// that read the journals before it may get the same time.
		"coarse": func() time.Time { return time.Now().Truncate(time.Minute) },
	}
	for name, now := range clocks {
		t.Run(name, func(t *testing.T) { repairDoesNotUndoANewerMove(t, now) })
	}
}

func repairDoesNotUndoANewerMove(t *testing.T, now func() time.Time) {
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"), journal.Options{Node: "rm1"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := fake.New(vip.Spec{Name: "vip", Interface: "eth0"}, map[string]any{"initial": "absent"})
	if err != nil {
		t.Fatal(err)
	}
	rm2 := &pairRM2{present: true}
	eng := engine.New(engine.Config{
		Node: "rm1", VIPs: map[string]engine.VIP{"vip": {Backend: b, Kind: "fake"}}, Supersede: true,
		StepTimeout: 5 * time.Second, Journal: j, Peers: rm2, Logger: zerolog.Nop(), Now: now,
	})
	t.Cleanup(func() { eng.Close(context.Background()); j.Close() })
	wait := func(id string) *reactions.Event {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ev, err := eng.Wait(ctx, id)
		if err != nil || !ev.Status.Final() {
			t.Fatalf("wait %s: %v %v", id, ev, err)
		}
		return ev
	}
	r := reconcile.New(reconcile.Config{
		Node: "rm1", Nodes: []string{"rm1", "rm2"},
		VIPs: map[string]reconcile.VIP{"vip": {Owner: "rm1", AutoFix: true}},
		Local: func(ctx context.Context, name string) (reactions.VIPState, error) {
			st, _, err := eng.Observe(ctx, name)
			return st, err
		},
		Peers: rm2, LastActions: j.LastActions, LastIntents: j.LastIntents, Submit: eng.Submit,
		Now: eng.Stamp, Logger: zerolog.Nop(),
	})
	pass(t, r) // wrong: rm2 holds it, the configured owner is rm1
	var move *reactions.Event
	rm2.during = func() {
		// `failover enable 2` on rm1, while the pass waits for rm2.
		stored, _, err := eng.Submit(&reactions.Event{Source: reactions.SourceFailover, Alarm: reactions.Alarm{Condition: "failover-enable"},
			Plan: &reactions.Plan{Reaction: "failover-enable", Steps: []reactions.Step{
				{Action: reactions.ActionDisable, VIP: "vip", Node: "rm1", When: []reactions.Condition{reactions.WhenAlways}},
				{Action: reactions.ActionEnable, VIP: "vip", Node: "rm2", When: []reactions.Condition{reactions.WhenReleased}},
			}}})
		if err != nil {
			t.Error(err)
			return
		}
		move = wait(stored.ID)
	}
	st := pass(t, r)
	if move == nil || move.Status != reactions.StatusSucceeded {
		t.Fatalf("the move: %+v", move)
	}
	if st.EventID != "" {
		if rep := wait(st.EventID); rep.Status == reactions.StatusSucceeded {
			t.Errorf("the repair decided before the move ran after it: %+v", rep.Result.Steps)
		}
	}
	rm2.mu.Lock()
	defer rm2.mu.Unlock()
	if local, _ := b.Observe(context.Background()); local.Present || !rm2.present {
		t.Errorf("rm1 holds the VIP: %v, rm2: %v; want rm2 only (the newest move)", local.Present, rm2.present)
	}
}
