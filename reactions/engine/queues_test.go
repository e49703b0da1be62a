package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
)

// Queues shows the event running on a VIP and the ones waiting behind it.
func TestQueues(t *testing.T) {
	b := fakeVIP(t, map[string]any{"initial": "present", "hang": true})
	h := newHarness(t, b, func(c *engine.Config) { c.Supersede = false; c.StepTimeout = time.Minute })
	if n, qs := h.eng.Queues(); n != 0 || len(qs) != 0 {
		t.Fatalf("idle engine: %d in flight, %v", n, qs)
	}
	for i := range 3 {
		if _, _, err := h.eng.Submit(&reactions.Event{Key: fmt.Sprint("q", i), Alarm: reactions.Alarm{Condition: "RM1_Stopped"}}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]engine.Queue{"rm-vip": {Running: 1, Waiting: 2}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, qs := h.eng.Queues()
		if n == 3 && cmp.Equal(want, qs) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d in flight, queues %v; want 3 and %v", n, qs, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Stop at once: the hanging steps end as timeouts.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h.eng.Close(ctx)
	if n, qs := h.eng.Queues(); n != 0 || len(qs) != 0 {
		t.Errorf("closed engine: %d in flight, %v", n, qs)
	}
}
