package engine_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
)

// waitFinal waits for event id's result (10 s at most; in a bubble, 10 s
// of its clock, so a test whose event never ends fails at once).
func (h *harness) waitFinal(id string) *reactions.Event {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := h.eng.Wait(ctx, id)
	if err != nil || !got.Status.Final() {
		h.t.Fatalf("wait %s: %v %v", id, got, err)
	}
	return got
}

// submit submits ev and returns it as stored.
func (h *harness) submit(ev *reactions.Event) *reactions.Event {
	h.t.Helper()
	stored, _, err := h.eng.Submit(ev)
	if err != nil {
		h.t.Fatalf("submit: %v", err)
	}
	return stored
}

func manual(action reactions.Action) *reactions.Event {
	return &reactions.Event{Source: reactions.SourceManual, Alarm: reactions.Alarm{Condition: "manual-" + string(action)},
		Plan: &reactions.Plan{Steps: []reactions.Step{{Action: action, VIP: "rm-vip"}}}}
}

// Waiting events are dropped only for a newer intent: a peer's request
// made for an older move, queued after a newer local event, does not
// drop it (it is itself superseded when its turn comes). Were it dropped,
// the later-queued request would then be superseded by it in turn: neither
// would run, and the newest move would be lost.
func TestOlderRequestDoesNotDropNewerWaitingEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present", "delay": "300ms"}), func(c *engine.Config) { c.Supersede = true })
		running := h.submit(manual(reactions.ActionDisable)) // holds the VIP for 300 ms
		synctest.Wait()                                      // until it is in the backend's act
		if diff := cmp.Diff([]string{"disable"}, h.backend.Calls()); diff != "" {
			t.Fatalf("the first event is not acting (-want +got):\n%s", diff)
		}
		newer := h.submit(manual(reactions.ActionEnable)) // waits behind it
		older := h.submit(peerRequest("rm2-old#0", time.Now().Add(5*time.Second), time.Now().Add(-time.Second)))
		h.waitFinal(running.ID)
		if got := h.waitFinal(newer.ID); got.Status != reactions.StatusSucceeded {
			t.Errorf("newer local enable: %s (%s), want succeeded", got.Status, got.Result.Error)
		}
		if got := h.waitFinal(older.ID); got.Status != reactions.StatusSuperseded {
			t.Errorf("older peer disable: %s, want superseded", got.Status)
		}
		if st, _ := h.backend.Observe(context.Background()); !st.Present {
			t.Error("the newest move (enable) was lost: the VIP is absent")
		}
	})
}
