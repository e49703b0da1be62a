package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/rules"
	"github.com/vipagent/vipagent/reactions/vip/fake"
)

// submitWait submits ev and waits for its result.
func (h *harness) submitWait(ev *reactions.Event) *reactions.Event {
	h.t.Helper()
	return h.waitFinal(h.submit(ev).ID)
}

// peerRequest is what a peer's disable looks like when it reaches this node.
func peerRequest(origin string, deadline, intent time.Time) *reactions.Event {
	return &reactions.Event{
		Key: origin, Source: reactions.SourcePeer, Origin: origin, Deadline: deadline, IntentAt: intent,
		Alarm: reactions.Alarm{ID: origin, Condition: "manual-disable"},
		Plan:  &reactions.Plan{Reaction: "manual-disable", Steps: []reactions.Step{{Action: reactions.ActionDisable, VIP: "rm-vip"}}},
	}
}

// A peer never starts work whose caller gave up: a request whose deadline
// passed, before it arrived or while it waited behind another event, is
// journaled as expired and the backend is never called for it. In a
// bubble, the queued request's 100 ms run out while the slow disable's
// 300 ms last, however loaded the machine.
func TestExpiredRequestsNeverStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakeVIP(t, map[string]any{"initial": "present", "delay": "300ms"})
		h := newHarness(t, b, nil)

		ev := h.submitWait(peerRequest("rm2-a#0", time.Now().Add(-time.Second), time.Now()))
		if ev.Status != reactions.StatusExpired {
			t.Errorf("past deadline: status %s, want expired (%s)", ev.Status, ev.Result.Error)
		}
		if diff := cmp.Diff([]reactions.Outcome{reactions.OutcomeSkipped}, outcomes(ev)); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}

		// A slow disable holds the VIP; a request that can wait 100 ms
		// expires behind it.
		slow := h.submit(manual(reactions.ActionDisable))
		queued := h.submitWait(peerRequest("rm2-b#0", time.Now().Add(100*time.Millisecond), time.Now().Add(time.Hour)))
		if queued.Status != reactions.StatusExpired {
			t.Errorf("expired in the queue: status %s, want expired", queued.Status)
		}
		h.waitFinal(slow.ID)
		if diff := cmp.Diff([]string{"disable"}, b.Calls()); diff != "" {
			t.Errorf("backend calls (-want +got):\n%s", diff)
		}
		// A peer's result is committed just after it is answered: once the
		// engine has stopped, it is in the journal.
		if err := h.eng.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		stored, err := h.journal.Get(queued.ID)
		if err != nil || stored.Status != reactions.StatusExpired {
			t.Errorf("journal has %v (%v), want the expired event", stored, err)
		}
	})
}

// blockingPeers never answers: the node is frozen.
type blockingPeers struct{ calls chan reactions.Step }

func (p blockingPeers) Do(ctx context.Context, node string, s reactions.Step, _ engine.PeerRequest) (reactions.StepResult, error) {
	p.calls <- s
	<-ctx.Done()
	return reactions.StepResult{}, ctx.Err()
}

// A caller that timed out on a peer step records the outcome as unknown
// (neither success nor failure), and an enable guarded by vip_released
// does not follow it. The caller stops waiting at the step's bound.
func TestPeerTimeoutIsUnknown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		peers := blockingPeers{calls: make(chan reactions.Step, 4)}
		h := newHarness(t, fakeVIP(t, map[string]any{"initial": "absent"}), func(c *engine.Config) {
			c.Node = "rm2"
			c.Peers = peers
			c.Rules = rules.Rules{{Name: "move", Match: rules.Match{Condition: []string{"RM1_Unexpected_Stop"}}, Steps: []reactions.Step{
				{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm1", Timeout: 200 * time.Millisecond},
				{Action: reactions.ActionEnable, VIP: "rm-vip", Node: "rm2", When: []reactions.Condition{reactions.WhenReleased}},
			}}}
		})
		start := time.Now()
		ev, _ := h.fire(reactions.Alarm{Condition: "RM1_Unexpected_Stop"})
		if diff := cmp.Diff([]reactions.Outcome{reactions.OutcomeUnknown, reactions.OutcomeSkipped}, outcomes(ev)); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		if ev.Status != reactions.StatusTimeout {
			t.Errorf("status %s, want timeout", ev.Status)
		}
		if d := time.Since(start); d != 200*time.Millisecond {
			t.Errorf("the event ended after %s, want at the peer step's bound (200ms)", d)
		}
		if len(h.backend.Calls()) != 0 {
			t.Errorf("backend called: %v", h.backend.Calls())
		}
	})
}

// The VIP lock is not held across a peer call: while this node waits on
// another, a local event for the same VIP runs; it is a newer intent, so
// the waiting event's later steps on the VIP are superseded. In a bubble,
// the local event takes no time at all unless it waits for the peer call.
func TestNoLockAcrossPeerCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		peers := blockingPeers{calls: make(chan reactions.Step, 4)}
		h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present"}), func(c *engine.Config) {
			c.Peers = peers
			c.Supersede = true
		})
		move := h.submit(&reactions.Event{Source: reactions.SourceManual, Alarm: reactions.Alarm{Condition: "move"},
			Plan: &reactions.Plan{Steps: []reactions.Step{
				{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm2", Timeout: 2 * time.Second, When: []reactions.Condition{reactions.WhenAlways}},
				{Action: reactions.ActionEnable, VIP: "rm-vip", Node: "rm1", When: []reactions.Condition{reactions.WhenAlways}},
			}}})
		<-peers.calls // the move now waits on rm2
		start := time.Now()
		local, _ := h.fire(reactions.Alarm{Condition: "RM1_Stopped"})
		if d := time.Since(start); d != 0 || local.Status != reactions.StatusSucceeded {
			t.Fatalf("local event while a peer call is pending: %s after %s, want succeeded at once", local.Status, d)
		}
		got := h.waitFinal(move.ID)
		if got.Status != reactions.StatusSuperseded {
			t.Errorf("move: %s, want superseded by the newer local event (%s)", got.Status, got.Result.Error)
		}
		if diff := cmp.Diff([]string{"disable"}, h.backend.Calls()); diff != "" {
			t.Errorf("backend calls (-want +got):\n%s", diff)
		}
	})
}

// The newest intent for a VIP wins on every node: a peer's request made
// for an older move than one this node has journaled is not run.
func TestOlderIntentSuperseded(t *testing.T) {
	h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present"}), func(c *engine.Config) { c.Supersede = true })
	h.fire(reactions.Alarm{Condition: "RM1_Started"})
	old := h.submitWait(peerRequest("rm2-old#0", time.Now().Add(5*time.Second), time.Now().Add(-time.Minute)))
	if old.Status != reactions.StatusSuperseded || !old.Result.Steps[0].Superseded {
		t.Errorf("older intent: %s %+v, want superseded", old.Status, old.Result.Steps)
	}
	newer := h.submitWait(peerRequest("rm2-new#0", time.Now().Add(5*time.Second), time.Now().Add(time.Second)))
	if newer.Status != reactions.StatusSucceeded {
		t.Errorf("newer intent: %s, want succeeded (%s)", newer.Status, newer.Result.Error)
	}
}

// flakyResults refuses the first results, as a full disk would.
type flakyResults struct {
	j       engine.Journal
	refusal atomic.Int32
}

func (f *flakyResults) Finish(ev *reactions.Event) error {
	if f.refusal.Add(-1) >= 0 {
		return errors.New("no space left on device")
	}
	return f.j.Finish(ev)
}

// Every accepted event ends in a final status: a result the journal
// refuses is committed again until it is taken, and nobody hears of it
// before. The commits are paced by a doubling backoff: 50, 100, 200 ms.
func TestResultCommittedOnceTheJournalTakesIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var flaky *flakyResults
		h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present"}), func(c *engine.Config) {
			flaky = &flakyResults{j: c.Journal}
			flaky.refusal.Store(3)
			c.Results = flaky
		})
		start := time.Now()
		ev, _ := h.fire(reactions.Alarm{Condition: "RM1_Stopped"})
		if ev.Status != reactions.StatusSucceeded {
			t.Errorf("status %s, want succeeded", ev.Status)
		}
		if d := time.Since(start); d != 350*time.Millisecond {
			t.Errorf("the result was heard of after %s, want after the three refusals' backoff (350ms)", d)
		}
		stored, err := h.journal.Get(ev.ID)
		if err != nil || stored.Status != reactions.StatusSucceeded || stored.Result == nil {
			t.Errorf("journal has %+v (%v), want the final result", stored, err)
		}
		if n := flaky.refusal.Load(); n >= 0 {
			t.Errorf("the journal was asked %d times fewer than expected", n+1)
		}
	})
}

// announcingBackend records the enables that only had to announce.
type announcingBackend struct {
	*fake.Backend
	released atomic.Int32
}

func (b *announcingBackend) EnableReleased(ctx context.Context) error {
	b.released.Add(1)
	return b.Backend.Enable(ctx, false)
}

// When the other node has just released the VIP and this node holds it
// already, clients may still have the other node's MAC: the unchanged
// enable announces again.
func TestUnchangedEnableAnnouncesAfterRelease(t *testing.T) {
	b := &announcingBackend{Backend: fakeVIP(t, map[string]any{"initial": "present"})}
	released := func(reactions.Step) (reactions.StepResult, error) {
		return reactions.StepResult{Outcome: reactions.OutcomeChanged}, nil
	}
	h := newHarness(t, b, func(c *engine.Config) {
		c.Peers = &recordingPeers{t: t, answer: map[string]func(reactions.Step) (reactions.StepResult, error){"rm2 disable rm-vip": released}}
		c.Rules = rules.Rules{{Name: "repair", Match: rules.Match{Condition: []string{"Repair"}}, Steps: []reactions.Step{
			{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm2", When: []reactions.Condition{reactions.WhenAlways}},
			{Action: reactions.ActionEnable, VIP: "rm-vip", Node: "rm1", When: []reactions.Condition{reactions.WhenReleased}},
		}}}
	})
	ev, _ := h.fire(reactions.Alarm{Condition: "Repair"})
	if diff := cmp.Diff([]reactions.Outcome{reactions.OutcomeChanged, reactions.OutcomeUnchanged}, outcomes(ev)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if n := b.released.Load(); n != 1 || !strings.Contains(ev.Result.Steps[1].Reason, "announced again") {
		t.Errorf("announcements after the release: %d (%q), want 1", n, ev.Result.Steps[1].Reason)
	}
	h.fire(reactions.Alarm{Condition: "RM1_Started"}) // no release in that event: nothing to announce
	if n := b.released.Load(); n != 1 {
		t.Errorf("an unchanged enable without a release announced: %d", n)
	}
}

// A clock must never stop the pair: an event accepted here is newer than
// any intent this node has seen, even one stamped ahead of this clock.
func TestLocalEventNewerThanAnyIntentSeen(t *testing.T) {
	h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present"}), func(c *engine.Config) { c.Supersede = true })
	ahead := time.Now().Add(30 * time.Second)
	peer := h.submitWait(peerRequest("rm2-ahead#0", time.Now().Add(5*time.Second), ahead))
	if peer.Status != reactions.StatusSucceeded {
		t.Fatalf("peer's disable: %s", peer.Status)
	}
	local, _ := h.fire(reactions.Alarm{Condition: "RM1_Started"})
	if local.Status != reactions.StatusSucceeded {
		t.Errorf("local enable after an intent stamped ahead: %s (%s), want succeeded", local.Status, local.Result.Error)
	}
	if !local.Intent().After(peer.Intent()) {
		t.Errorf("local intent %v is not after the peer's %v", local.Intent(), peer.Intent())
	}
}

// stepPeers answers every step and keeps what it was asked.
type stepPeers struct {
	mu    sync.Mutex
	steps []reactions.Step
}

func (p *stepPeers) Do(ctx context.Context, node string, s reactions.Step, _ engine.PeerRequest) (reactions.StepResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.steps = append(p.steps, s)
	return reactions.StepResult{Outcome: reactions.OutcomeChanged}, nil
}

// A move whose enable runs on the other node tells it that this node just
// released the VIP, so that its duplicate probe is the short one; and a
// node asked that way uses it.
func TestReleasedCarriedToThePeer(t *testing.T) {
	peers := &stepPeers{}
	h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present"}), func(c *engine.Config) {
		c.Peers = peers
		c.Rules = rules.Rules{{Name: "to-rm2", Match: rules.Match{Condition: []string{"RM1_Stopped"}}, Steps: []reactions.Step{
			{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm1"},
			{Action: reactions.ActionEnable, VIP: "rm-vip", Node: "rm2", When: []reactions.Condition{reactions.WhenReleased}},
		}}}
	})
	h.fire(reactions.Alarm{Condition: "RM1_Stopped"})
	if len(peers.steps) != 1 || !peers.steps[0].Released {
		t.Errorf("steps sent to rm2: %+v, want the enable marked released", peers.steps)
	}

	b := &announcingBackend{Backend: fakeVIP(t, map[string]any{"initial": "absent"})}
	h2 := newHarness(t, b, nil)
	req := peerRequest("rm2-move#1", time.Now().Add(5*time.Second), time.Now())
	req.Alarm.Condition = "manual-enable"
	req.Plan.Steps[0].Action, req.Plan.Steps[0].Released = reactions.ActionEnable, true
	if ev := h2.submitWait(req); ev.Status != reactions.StatusSucceeded || b.released.Load() != 1 {
		t.Errorf("released enable: %s, short-probe enables %d, want succeeded and 1", ev.Status, b.released.Load())
	}
}
