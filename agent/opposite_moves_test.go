package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/vipagent/vipagent/reactions"
)

// failover posts RM's failoverscript call to an agent and returns the
// event it journaled.
func failover(t *testing.T, a *monAgent, body map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, a.url+"/v1/failover?wait=5s", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+monToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("failover %v: %v", body, err)
		return ""
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var res struct {
		EventID string `json:"event_id"`
	}
	if err := json.Unmarshal(data, &res); err != nil || res.EventID == "" {
		t.Errorf("failover %v answered %d: %s", body, resp.StatusCode, data)
	}
	return res.EventID
}

// Opposite moves at the same moment: rm1 is told "member 1 is active" and
// rm2 "member 2 is active" at random offsets. Whatever the interleaving,
// both end within a second or two (no node waits on the other while
// holding its VIP lock) and exactly one node holds the VIP: the one the
// later intent named. Seeded: a failing seed is printed and replays.
func TestOppositeMovesOneHolder(t *testing.T) {
	rm1, rm2 := monPair(t, false, true, false)
	for seed := uint64(1); seed <= 25; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		// Any starting state, including none and both.
		if err := rm1.fake(t).Set(rng.IntN(2) == 0); err != nil {
			t.Fatal(err)
		}
		if err := rm2.fake(t).Set(rng.IntN(2) == 0); err != nil {
			t.Fatal(err)
		}
		delays := []time.Duration{time.Duration(rng.IntN(15)) * time.Millisecond, time.Duration(rng.IntN(15)) * time.Millisecond}
		agents := []*monAgent{rm1, rm2}
		ids := make([]string, 2)
		start := time.Now()
		var wg sync.WaitGroup
		for i := range agents {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(delays[i]) // the seeded schedule under test
				ids[i] = failover(t, agents[i], map[string]any{"action": "enable", "member_id": i + 1})
			}()
		}
		wg.Wait()
		took := time.Since(start)
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
		var evs [2]*reactions.Event
		for i, a := range agents {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			ev, err := a.Engine.Wait(ctx, ids[i])
			cancel()
			if err != nil || !ev.Status.Final() {
				t.Fatalf("seed %d: event %s on %s not final: %v %v", seed, ids[i], a.Config.Node, ev, err)
			}
			evs[i] = ev
		}
		later := 0
		if evs[1].Intent().After(evs[0].Intent()) {
			later = 1
		}
		on := [2]bool{holds(t, rm1), holds(t, rm2)}
		want := [2]bool{later == 0, later == 1}
		if on != want {
			t.Fatalf("seed %d (delays %v): VIP on rm1=%v rm2=%v, want only %s (the later intent, event %s); results:\n%s\n%s",
				seed, delays, on[0], on[1], agents[later].Config.Node, evs[later].ID, describe(evs[0]), describe(evs[1]))
		}
		if took > 2*time.Second {
			t.Errorf("seed %d: opposite moves took %s", seed, took)
		}
	}
}

func holds(t *testing.T, a *monAgent) bool {
	t.Helper()
	st, err := a.fake(t).Observe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Present
}

func describe(ev *reactions.Event) string {
	s := fmt.Sprintf("%s on %s: %s", ev.ID, ev.Node, ev.Status)
	if ev.Result != nil {
		for _, st := range ev.Result.Steps {
			s += fmt.Sprintf("\n  step %d %s on %s: %s %s %s", st.Index, st.Action, st.Node, st.Outcome, st.Reason, st.Error)
		}
	}
	return s
}
