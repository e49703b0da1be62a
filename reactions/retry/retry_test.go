package retry

import (
	"context"
	"testing"
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

func TestWaitEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Wait(ctx, time.Hour) {
		t.Error("Wait on an ended context reported the full wait")
	}
	if !Wait(context.Background(), time.Millisecond) {
		t.Error("Wait of 1 ms did not pass")
	}
}
