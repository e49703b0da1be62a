package engine

// Queue is the load on one VIP: the event running on it (0 or 1, as events
// for one VIP run one at a time) and the events waiting behind it.
type Queue struct {
	Running, Waiting int
}

// Queues reports the events accepted and not finished, and each busy VIP's
// queue (VIPs with none are left out). It only reads memory, for metrics.
func (e *Engine) Queues() (inFlight int, vips map[string]Queue) {
	e.mu.Lock()
	inFlight = e.inFlight
	e.mu.Unlock()
	return inFlight, e.locks.queued()
}

func (l *vipLocks) queued() map[string]Queue {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]Queue, len(l.queues))
	for v, q := range l.queues {
		var s Queue
		for _, t := range q {
			if t.head {
				s.Running++
			} else {
				s.Waiting++
			}
		}
		out[v] = s
	}
	return out
}
