package engine_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
)

// Queues shows the event running on a VIP and the ones waiting behind it.
// In a bubble: synctest.Wait returns once every event is as far as it can
// get (running in the hanging backend or waiting for its turn).
func TestQueues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakeVIP(t, map[string]any{"initial": "present", "hang": true})
		h := newHarness(t, b, func(c *engine.Config) { c.Supersede = false; c.StepTimeout = time.Minute })
		if n, qs := h.eng.Queues(); n != 0 || len(qs) != 0 {
			t.Fatalf("idle engine: %d in flight, %v", n, qs)
		}
		for i := range 3 {
			h.submit(&reactions.Event{Key: fmt.Sprint("q", i), Alarm: reactions.Alarm{Condition: "RM1_Stopped"}})
		}
		synctest.Wait()
		want := map[string]engine.Queue{"rm-vip": {Running: 1, Waiting: 2}}
		if n, qs := h.eng.Queues(); n != 3 || !cmp.Equal(want, qs) {
			t.Fatalf("%d in flight, queues %v; want 3 and %v", n, qs, want)
		}
		// Stop at once: the hanging steps end as timeouts.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		h.eng.Close(ctx)
		if n, qs := h.eng.Queues(); n != 0 || len(qs) != 0 {
			t.Errorf("closed engine: %d in flight, %v", n, qs)
		}
	})
}
