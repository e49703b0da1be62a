// Package retry is how vipagent waits between attempts: one backoff
// policy (doubling or linear, capped, optionally jittered) and one wait
// that ends with its context. The report outbox, the engine's commit of a
// result and a failed VIP step all use it.
package retry

import (
	"context"
	"time"
)

// Backoff says how long to wait after a failed attempt.
type Backoff struct {
	// Base is the wait after the first failure.
	Base time.Duration
	// Cap bounds the wait; zero means no bound.
	Cap time.Duration
	// Linear waits Base times the number of failures instead of doubling.
	Linear bool
	// Jitter ("equal jitter") waits between half and all of it, so that
	// many waiters coming back are not all at once.
	Jitter bool
}

// Delay is the wait after the failures-th failed attempt (from 1); r, in
// [0, 1), picks the jitter.
func (b Backoff) Delay(failures int, r float64) time.Duration {
	failures = max(failures, 1)
	d := b.Base
	if b.Linear {
		d = b.Base * time.Duration(failures)
	} else {
		for i := 1; i < failures && (b.Cap <= 0 || d < b.Cap); i++ {
			d *= 2
		}
	}
	if b.Cap > 0 {
		d = min(d, b.Cap)
	}
	if !b.Jitter {
		return d
	}
	r = min(max(r, 0), 1)
	return d/2 + time.Duration(r*float64(d/2))
}

// Wait waits d, or less when ctx ends first; it reports whether the full
// wait passed (false: stop trying).
func Wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
