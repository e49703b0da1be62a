package agenttest

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a testing.TB whose Fatal and Skip are recorded and end the
// goroutine, as the real ones do, so a test can check that a helper failed
// or skipped and with what message.
type recorder struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failed, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recorder) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f with a recorder on its own goroutine, as the testing package
// runs a test, and returns what it recorded.
func run(t *testing.T, f func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestEventuallyReturnsOnceTrue(t *testing.T) {
	var calls atomic.Int32
	start := time.Now()
	r := run(t, func(tb testing.TB) {
		Eventually(tb, 10*time.Second, func() bool { return calls.Add(1) == 5 }, "never five")
	})
	if r.failed {
		t.Fatalf("Eventually failed: %s", r.msg)
	}
	if got := calls.Load(); got != 5 {
		t.Errorf("cond called %d times; want 5 (it stops at the first true)", got)
	}
	// Five calls with the growing pause take a few milliseconds, not the
	// ten seconds allowed: Eventually waits on the condition, not the clock.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Eventually took %s for a condition true at the fifth call", d)
	}
}

func TestEventuallyFailsWithMessage(t *testing.T) {
	var calls atomic.Int32
	r := run(t, func(tb testing.TB) {
		Eventually(tb, 30*time.Millisecond, func() bool { calls.Add(1); return false }, "want %d rows", 3)
	})
	if !r.failed {
		t.Fatal("Eventually did not fail for a condition that never held")
	}
	if !strings.Contains(r.msg, "want 3 rows") || !strings.Contains(r.msg, "30ms") {
		t.Errorf("message %q; want the formatted message and the time waited", r.msg)
	}
	if calls.Load() < 2 {
		t.Errorf("cond called %d times in 30ms; want it polled", calls.Load())
	}
}

// A condition that becomes true during the last pause counts: cond is
// asked once more at the deadline.
func TestEventuallyAsksAgainAtTheDeadline(t *testing.T) {
	deadline := time.Now().Add(20 * time.Millisecond)
	r := run(t, func(tb testing.TB) {
		Eventually(tb, 20*time.Millisecond, func() bool { return !time.Now().Before(deadline) })
	})
	if r.failed {
		t.Fatalf("Eventually failed for a condition true at its deadline: %s", r.msg)
	}
}

func TestEventuallyPauseGrows(t *testing.T) {
	var stamps []time.Time
	run(t, func(tb testing.TB) {
		Eventually(tb, 400*time.Millisecond, func() bool { stamps = append(stamps, time.Now()); return false })
	})
	// A fixed 1 ms pause would give hundreds of calls in 400 ms; the
	// growing one, bounded by maxPoll, a few dozen at most.
	if n := len(stamps); n > 60 || n < 3 {
		t.Errorf("cond called %d times in 400ms; want between 3 and 60 with a pause growing to %s", n, maxPoll)
	}
}

func TestMessage(t *testing.T) {
	tests := []struct {
		in   []any
		want string
	}{
		{nil, "condition never held"},
		{[]any{"plain"}, "plain"},
		{[]any{"%d of %s", 2, "x"}, "2 of x"},
		{[]any{42, "x"}, "42x"},
		{[]any{func() string { return "late" }}, "late"},
	}
	for _, tt := range tests {
		if got := message(tt.in); got != tt.want {
			t.Errorf("message(%v) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
