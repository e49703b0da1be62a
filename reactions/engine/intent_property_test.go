package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
)

// slowAccept is the journal with a pause after each accept, chosen by the
// seed: the goroutine that accepted an event reaches the engine's next
// step late, as a scheduler may make it do. The pause is the schedule
// under test: in the test's bubble it is exact, so a seed replays the same
// order of arrivals.
type slowAccept struct {
	engine.Journal
	mu  sync.Mutex
	rng *rand.Rand
}

func (j *slowAccept) Accept(ev *reactions.Event) (*reactions.Event, bool, error) {
	stored, dup, err := j.Journal.Accept(ev)
	j.mu.Lock()
	pause := time.Duration(j.rng.IntN(3000)) * time.Microsecond
	j.mu.Unlock()
	time.Sleep(pause)
	return stored, dup, err
}

// tickingClock moves on by a nanosecond at every reading, so that the
// order of the results' StartedAt is the order the runs began in even where
// the clock stands still (in a bubble, while nothing sleeps).
type tickingClock struct {
	mu    sync.Mutex
	ticks time.Duration
}

func (c *tickingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ticks++
	return time.Now().Add(c.ticks)
}

// The newest accepted intent wins, whatever order the goroutines that
// accepted the events reach the engine in: for seeded schedules of N
// concurrent enables and disables of one VIP, the event received last
// succeeds and its move holds, and the events that acted did so in the
// order they were received (no older move acts after a newer one).
func TestNewestAcceptedIntentWinsProperty(t *testing.T) {
	const n = 24
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 18))
				var slow *slowAccept
				h := newHarness(t, fakeVIP(t, map[string]any{"initial": "absent", "delay": "2ms"}), func(c *engine.Config) {
					c.Supersede = true
					c.Now = (&tickingClock{}).Now
					slow = &slowAccept{Journal: c.Journal, rng: rand.New(rand.NewPCG(seed, 22))}
					c.Journal = slow
				})
				actions := make([]reactions.Action, n)
				for i := range actions {
					actions[i] = reactions.ActionEnable
					if rng.IntN(2) == 0 {
						actions[i] = reactions.ActionDisable
					}
				}
				ids := make([]string, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						ev, _, err := h.eng.Submit(manual(actions[i]))
						if err != nil {
							t.Error(err)
							return
						}
						ids[i] = ev.ID
					})
				}
				wg.Wait()
				if t.Failed() {
					return
				}
				evs := make([]*reactions.Event, n)
				for i, id := range ids {
					evs[i] = h.waitFinal(id)
				}
				byReceipt := slices.Clone(evs)
				slices.SortFunc(byReceipt, func(a, b *reactions.Event) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
				last := byReceipt[n-1]
				if last.Status != reactions.StatusSucceeded {
					t.Fatalf("the event received last, %s (%s), ended %s: %s", last.ID, last.Alarm.Condition, last.Status, last.Result.Error)
				}
				st, err := h.backend.Observe(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if want := last.Alarm.Condition == "manual-enable"; st.Present != want {
					t.Errorf("VIP present=%v after all events, want %v (the move of %s, received last)", st.Present, want, last.ID)
				}
				var ran []*reactions.Event
				for _, ev := range evs {
					if ev.Status == reactions.StatusSucceeded {
						ran = append(ran, ev)
					}
				}
				slices.SortFunc(ran, func(a, b *reactions.Event) int { return a.Result.StartedAt.Compare(b.Result.StartedAt) })
				for i := 1; i < len(ran); i++ {
					if ran[i].ReceivedAt.Before(ran[i-1].ReceivedAt) {
						t.Errorf("%s (received %s) acted after %s (received later, %s)", ran[i].ID, ran[i].ReceivedAt.Format(time.RFC3339Nano), ran[i-1].ID, ran[i-1].ReceivedAt.Format(time.RFC3339Nano))
					}
				}
			})
		})
	}
}

// A request whose caller's deadline passed before it was accepted (an agent
// woken after a freeze finds it in its backlog) ends expired, and its
// intent, which nobody waits for any more, replaces no other: the event
// queued before it still runs. In a bubble: the first is in its 200 ms act
// before the other two are accepted, however loaded the machine.
func TestExpiredOnArrivalReplacesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present", "delay": "200ms"}), func(c *engine.Config) { c.Supersede = true })
		running := h.submit(manual(reactions.ActionDisable))
		synctest.Wait() // until it is in its act: otherwise the enable would supersede it
		if diff := cmp.Diff([]string{"disable"}, h.backend.Calls()); diff != "" {
			t.Fatalf("the first event is not acting (-want +got):\n%s", diff)
		}
		queued := h.submit(manual(reactions.ActionEnable))
		late := manual(reactions.ActionDisable)
		late.Deadline = time.Now().Add(-time.Second)
		abandoned := h.submit(late)
		if got := h.waitFinal(running.ID); got.Status != reactions.StatusSucceeded {
			t.Errorf("the first event: %s (%s), want succeeded", got.Status, got.Result.Error)
		}
		if got := h.waitFinal(abandoned.ID); got.Status != reactions.StatusExpired {
			t.Errorf("request accepted after its deadline: %s, want expired", got.Status)
		}
		if got := h.waitFinal(queued.ID); got.Status != reactions.StatusSucceeded {
			t.Errorf("event queued before the abandoned one: %s (%s), want succeeded", got.Status, got.Result.Error)
		}
		if diff := cmp.Diff([]string{"disable", "enable"}, h.backend.Calls()); diff != "" {
			t.Errorf("backend calls (-want +got):\n%s", diff)
		}
	})
}
