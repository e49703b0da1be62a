package retry

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestDelay(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name     string
		b        Backoff
		failures int
		r        float64
		want     time.Duration
	}{
		{"doubling, first", Backoff{Base: 50 * ms, Cap: 5 * time.Second}, 1, 0, 50 * ms},
		{"doubling, third", Backoff{Base: 50 * ms, Cap: 5 * time.Second}, 3, 0, 200 * ms},
		{"doubling, capped", Backoff{Base: 50 * ms, Cap: 5 * time.Second}, 30, 0, 5 * time.Second},
		{"doubling, no cap", Backoff{Base: ms}, 11, 0, 1024 * ms},
		{"linear", Backoff{Base: 200 * ms, Linear: true}, 3, 0, 600 * ms},
		{"linear, capped", Backoff{Base: 200 * ms, Linear: true, Cap: 500 * ms}, 3, 0, 500 * ms},
		{"jitter, low end", Backoff{Base: 400 * ms, Jitter: true}, 1, 0, 200 * ms},
		{"jitter, middle", Backoff{Base: 400 * ms, Jitter: true}, 1, 0.5, 300 * ms},
		{"jitter, r clamped", Backoff{Base: 400 * ms, Jitter: true}, 1, 7, 400 * ms},
		{"failures below one count as one", Backoff{Base: 50 * ms}, 0, 0, 50 * ms},
	}
	for _, tt := range tests {
		if got := tt.b.Delay(tt.failures, tt.r); got != tt.want {
			t.Errorf("%s: Delay(%d, %v) = %s, want %s", tt.name, tt.failures, tt.r, got, tt.want)
		}
	}
}

// Wait waits the full time, or returns when its context ends; in a bubble
// both are exact.
func TestWaitEndsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if !Wait(context.Background(), time.Hour) {
			t.Error("Wait of an hour did not report the full wait")
		}
		if d := time.Since(start); d != time.Hour {
			t.Errorf("Wait of an hour returned after %s", d)
		}

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start = time.Now()
		if Wait(ctx, time.Hour) || time.Since(start) != 0 {
			t.Errorf("Wait on an ended context reported the full wait or waited (%s)", time.Since(start))
		}

		ctx, cancel = context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		start = time.Now()
		if Wait(ctx, time.Hour) {
			t.Error("Wait whose context ended half way reported the full wait")
		}
		if d := time.Since(start); d != 30*time.Minute {
			t.Errorf("Wait whose context ended after 30m returned after %s", d)
		}
	})
}
