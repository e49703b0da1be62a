package engine

import "sync"

// acceptOrder makes events enter their VIPs' queues in the order they were
// stamped, so that "in the order they were accepted" holds although
// journaling runs concurrently (group commits): each stamped event takes a
// turn, and queues only once every event stamped before it has queued or
// given up (refused, a duplicate, a journal error).
type acceptOrder struct {
	mu   sync.Mutex
	cond *sync.Cond
	// issued is the next turn to hand out; next is the turn whose holder
	// may queue now. Guarded by mu (issued also under the engine's stampMu,
	// so turns follow the stamps).
	issued, next uint64
	passed       map[uint64]bool // turns given up or used out of order
}

func newAcceptOrder() *acceptOrder {
	o := &acceptOrder{passed: map[uint64]bool{}}
	o.cond = sync.NewCond(&o.mu)
	return o
}

// turn is one stamped event's place in the order.
type turn struct {
	o    *acceptOrder
	n    uint64
	done bool
}

// take hands out the next turn; call it where the event is stamped.
func (o *acceptOrder) take() *turn {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := &turn{o: o, n: o.issued}
	o.issued++
	return t
}

// pending reports whether a turn was handed out and not passed yet: an
// event between its stamp and its queue.
func (o *acceptOrder) pending() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.next != o.issued
}

// wait returns once every earlier turn has been passed.
func (t *turn) wait() {
	if t == nil {
		return
	}
	t.o.mu.Lock()
	defer t.o.mu.Unlock()
	for t.o.next != t.n {
		t.o.cond.Wait()
	}
}

// pass ends the turn, used or given up; later calls do nothing.
func (t *turn) pass() {
	if t == nil || t.done {
		return
	}
	t.done = true
	o := t.o
	o.mu.Lock()
	defer o.mu.Unlock()
	o.passed[t.n] = true
	for o.passed[o.next] {
		delete(o.passed, o.next)
		o.next++
	}
	o.cond.Broadcast()
}
