package engine

import (
	"slices"
	"sync"

	"github.com/vipagent/vipagent/reactions"
)

// vipLocks serialises events per VIP in the order they were queued: an
// event runs when it is at the head of the queue of every VIP it touches,
// so two events for the same VIP never interleave and the later one sees
// what the earlier left. Events touching no VIP run at once.
type vipLocks struct {
	mu     sync.Mutex
	queues map[string][]*ticket
}

type ticket struct {
	id   string
	vips []string
	// intent is the move the event acts for: only a newer one drops it.
	intent reactions.Intent
	// ready is closed when the ticket heads all its queues; superseded
	// tickets are closed with skip set.
	ready chan struct{}
	skip  bool
	head  bool // set under mu once ready was closed
}

func newVIPLocks() *vipLocks { return &vipLocks{queues: map[string][]*ticket{}} }

// enqueue puts an event acting for intent behind the earlier events of its
// VIPs. With supersede, earlier waiting tickets whose VIPs the new one
// covers and whose intent is older are dropped: the newest intent for a VIP
// wins. Queued later is not newer: a peer's request for an older move may
// arrive after a local event for a newer one.
func (l *vipLocks) enqueue(id string, vips []string, intent reactions.Intent, supersede bool) *ticket {
	t := &ticket{id: id, vips: vips, intent: intent, ready: make(chan struct{})}
	l.mu.Lock()
	defer l.mu.Unlock()
	if supersede && len(vips) > 0 {
		for _, v := range vips {
			for _, old := range l.queues[v] {
				if !old.head && !old.skip && covers(vips, old.vips) && intent.After(old.intent) {
					old.skip = true
				}
			}
		}
		for _, v := range vips {
			l.dropSkipped(v)
		}
	}
	for _, v := range vips {
		l.queues[v] = append(l.queues[v], t)
	}
	l.promote()
	return t
}

// covers reports whether every VIP of b is in a.
func covers(a, b []string) bool {
	for _, v := range b {
		if !slices.Contains(a, v) {
			return false
		}
	}
	return true
}

func (l *vipLocks) dropSkipped(v string) {
	q := l.queues[v]
	kept := q[:0]
	for _, t := range q {
		if t.skip {
			select {
			case <-t.ready:
			default:
				close(t.ready)
			}
			continue
		}
		kept = append(kept, t)
	}
	l.queues[v] = kept
}

// promote wakes every ticket that heads all its queues; the caller holds mu.
func (l *vipLocks) promote() {
	for _, q := range l.queues {
		if len(q) == 0 {
			continue
		}
		t := q[0]
		if t.head {
			continue
		}
		if l.heads(t) {
			t.head = true
			close(t.ready)
		}
	}
}

func (l *vipLocks) heads(t *ticket) bool {
	for _, v := range t.vips {
		if q := l.queues[v]; len(q) == 0 || q[0] != t {
			return false
		}
	}
	return true
}

// wait blocks until the ticket may run; false means it was superseded.
// A nil ticket (no VIPs) runs at once.
func (t *ticket) wait() bool {
	if t == nil || len(t.vips) == 0 {
		return true
	}
	<-t.ready
	return !t.skip
}

// done releases a running ticket's VIPs.
func (l *vipLocks) done(t *ticket) {
	if t == nil || len(t.vips) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range t.vips {
		q := l.queues[v]
		if len(q) > 0 && q[0] == t {
			l.queues[v] = q[1:]
		}
		if len(l.queues[v]) == 0 {
			delete(l.queues, v)
		}
	}
	l.promote()
}
