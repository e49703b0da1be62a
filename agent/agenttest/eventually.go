package agenttest

import (
	"fmt"
	"testing"
	"time"
)

// The first and the longest pause between two calls of Eventually's
// condition: short at first, because most conditions hold within a few
// milliseconds, and growing so that a slow one does not spin the two cores
// CI shares between several test binaries.
const (
	firstPoll = time.Millisecond
	maxPoll   = 50 * time.Millisecond
)

// Eventually calls cond until it returns true or within passes, then fails t with msg.
//
// msgAndArgs is a message, optionally a format followed by its arguments,
// or a single func() string called at the failure, for a message that
// shows the last state cond saw; without one the failure says only how
// long it waited. cond is called
// once more after the deadline, so that a condition that became true while
// the last pause ran is not reported as a failure. Eventually waits on the
// condition, never for a fixed time: it returns as soon as cond holds.
func Eventually(t testing.TB, within time.Duration, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	if Poll(within, cond) {
		return
	}
	t.Fatalf("not true within %s: %s", within, message(msgAndArgs))
}

// Poll is Eventually without the test: it reports whether cond held
// within, for a caller that records a miss as a finding (the fault lab's
// invariants) or reports it with more than a message (Start).
func Poll(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	pause := firstPoll
	for {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return cond()
		}
		time.Sleep(min(pause, left))
		pause = min(pause*3/2+time.Millisecond, maxPoll)
	}
}

func message(msgAndArgs []any) string {
	switch {
	case len(msgAndArgs) == 0:
		return "condition never held"
	case len(msgAndArgs) == 1:
		if f, ok := msgAndArgs[0].(func() string); ok {
			return f()
		}
		return fmt.Sprint(msgAndArgs[0])
	}
	if format, ok := msgAndArgs[0].(string); ok {
		return fmt.Sprintf(format, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}
