package engine_test

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
)

// committing counts the results committed for events that touched the VIP
// rm-vip, after a random pause that widens the window between a run's
// last step and its commit.
type committing struct {
	j    *journal.Journal
	rng  func() time.Duration
	done atomic.Uint64
}

func (c *committing) Finish(ev *reactions.Event) error {
	time.Sleep(c.rng())
	if err := c.j.Finish(ev); err != nil {
		return err
	}
	for _, s := range ev.Result.Steps {
		if s.VIP == "rm-vip" {
			c.done.Add(1)
			break
		}
	}
	return nil
}

// Whenever two readings of Moves bracket a read of the journal with
// nothing moving between them (Settled), the journal holds every move that
// started, and every move stamped before a Stamp taken between them: that
// is what reconcile relies on to judge a VIP from the journals it read at
// that stamp. Seeded: alarms that move the VIP and alarms that match no
// rule arrive from several goroutines while a reader checks the property.
func TestSettledMovesAreJournaled(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		rng := rand.New(rand.NewPCG(seed, seed))
		var rngMu sync.Mutex
		pause := func() time.Duration {
			rngMu.Lock()
			defer rngMu.Unlock()
			return time.Duration(rng.IntN(3000)) * time.Microsecond
		}
		res := &committing{rng: pause}
		h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present"}), func(c *engine.Config) {
			c.Results = res
			c.Supersede = true
		})
		res.j = h.journal

		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 15 {
					cond := []string{"RM1_Stopped", "RM1_Started", "Nothing_Matches"}[(w+i)%3]
					ev, _, err := h.eng.Submit(&reactions.Event{Source: reactions.SourceHTTP, Alarm: reactions.Alarm{Condition: cond}})
					if err != nil {
						t.Errorf("seed %d: submit: %v", seed, err)
						return
					}
					h.waitFinal(ev.ID)
					time.Sleep(pause())
				}
			})
		}
		stop := make(chan struct{})
		var busy, settled int
		type reading struct {
			at        time.Time
			committed uint64
		}
		var readings []reading
		checked := make(chan struct{})
		go func() {
			defer close(checked)
			// Bounded by the workers (stop) and, should they hang, by time.
			for end := time.Now().Add(30 * time.Second); time.Now().Before(end); {
				select {
				case <-stop:
					return
				default:
				}
				before := h.eng.Moves("rm-vip")
				at := h.eng.Stamp()
				committed := res.done.Load()
				after := h.eng.Moves("rm-vip")
				if !before.Settled(after) {
					busy++
					continue
				}
				settled++
				if committed != after.Started {
					t.Errorf("seed %d: settled at %d moves started, but %d committed", seed, after.Started, committed)
					return
				}
				// Of the readings at one count of commits, the latest
				// stamp is the one an event stamped before it but not
				// committed would fail: keep that one.
				if n := len(readings); n > 0 && readings[n-1].committed == committed {
					readings[n-1].at = at
				} else {
					readings = append(readings, reading{at, committed})
				}
			}
		}()
		wg.Wait()
		close(stop)
		<-checked
		if busy == 0 || settled == 0 {
			t.Errorf("seed %d: %d busy and %d settled readings; the schedule must show both", seed, busy, settled)
		}
		evs, err := h.journal.List(journal.Filter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range readings {
			var stamped uint64
			for _, ev := range evs {
				if ev.Alarm.Condition != "Nothing_Matches" && ev.ReceivedAt.Before(r.at) {
					stamped++
				}
			}
			if stamped != r.committed {
				t.Errorf("seed %d: settled at stamp %s with %d moves committed, but %d were stamped before it", seed, r.at.Format(time.RFC3339Nano), r.committed, stamped)
				break
			}
		}
		if m := h.eng.Moves("rm-vip"); m.Busy || m.Started != res.done.Load() || m.Started == 0 {
			t.Errorf("seed %d: at rest Moves = %+v with %d committed; want not busy and all %d committed", seed, m, res.done.Load(), m.Started)
		}
	}
}
