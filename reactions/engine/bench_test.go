package engine_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
)

// BenchmarkAcceptToBackend measures the agent's own overhead: from an alarm
// handed to the engine (journaled durably, with an fsync) to the fake
// backend being asked to act. It reports the p50/p99 of that latency, and
// the p99 of the part after the alarm was durably accepted.
func BenchmarkAcceptToBackend(b *testing.B) {
	fb := fakeVIP(&testing.T{}, map[string]any{"initial": "present"})
	called := make(chan time.Time, 1)
	fb.OnAct(func(string) { called <- time.Now() })
	j, err := journal.Open(filepath.Join(b.TempDir(), "j.db"), journal.Options{Node: "rm1"})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	e := engine.New(engine.Config{Node: "rm1", VIPs: map[string]engine.VIP{"rm-vip": {Backend: fb, Kind: "fake"}},
		Rules: stopRules, Journal: j, Logger: zerolog.Nop()})
	defer e.Close(context.Background())
	lat := make([]time.Duration, 0, b.N)
	post := make([]time.Duration, 0, b.N)
	conds := []string{"RM1_Stopped", "RM1_Started"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		ev, _, err := e.Submit(&reactions.Event{Alarm: reactions.Alarm{Condition: conds[i%2]}})
		if err != nil {
			b.Fatal(err)
		}
		accepted := time.Now()
		at := <-called
		lat = append(lat, at.Sub(start))
		post = append(post, at.Sub(accepted))
		b.StopTimer()
		if _, err := e.Wait(context.Background(), ev.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	// From Submit's return (the alarm durably accepted) to the backend call.
	slices.Sort(post)
	b.ReportMetric(float64(post[len(post)*99/100].Microseconds()), "p99-after-accept-µs")
}
