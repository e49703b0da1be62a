package engine_test

import (
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/reactions/engine"
)

// Stamp never repeats or goes back, even on a clock that stands still or
// steps back, and from many goroutines at once.
func TestStampStrictlyIncreases(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(-time.Millisecond) // a clock stepping back
		return clock
	}
	e := engine.New(engine.Config{Node: "rm1", Logger: zerolog.Nop(), Now: now})
	const workers, each = 8, 200
	got := make([][]time.Time, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				got[w] = append(got[w], e.Stamp())
			}
		}()
	}
	wg.Wait()
	seen := map[time.Time]bool{}
	for w, ts := range got {
		for i, ts1 := range ts {
			if seen[ts1] {
				t.Fatalf("worker %d stamp %d: %s given twice", w, i, ts1)
			}
			seen[ts1] = true
			if i > 0 && !ts1.After(ts[i-1]) {
				t.Fatalf("worker %d: stamp %d (%s) not after %d (%s)", w, i, ts1, i-1, ts[i-1])
			}
		}
	}
}
