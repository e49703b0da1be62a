package peer

import (
	"encoding/json"
	"sync"
	"time"
)

// The nodes' clocks are not trusted to agree: a request's deadline is sent
// in the peer's clock, from the offset its /healthz answers showed (as NTP
// does: the peer's time against the middle of the round trip, off by at
// most half the round trip). A deadline is absolute, so that a peer frozen
// with the request in its socket still knows, once it wakes, that the
// caller gave up.
const (
	// maxSampleRTT discards answers too slow to tell the offset (a peer
	// that stalled answers late).
	maxSampleRTT = 250 * time.Millisecond
	// sampleTTL is how long an offset is trusted without a new sample
	// (probes come every few seconds); a clock stepped meanwhile is seen by
	// the next probe.
	sampleTTL = time.Minute
)

type clockSample struct {
	offset, err time.Duration
	at          time.Time
}

// clocks holds the latest usable offset per peer.
type clocks struct {
	mu     sync.Mutex
	byNode map[string]clockSample
}

// note takes a /healthz answer (body) read between sent and received.
func (c *clocks) note(node string, sent, received time.Time, body []byte) {
	var h struct {
		Time time.Time `json:"time"`
	}
	rtt := received.Sub(sent)
	if json.Unmarshal(body, &h) != nil || h.Time.IsZero() || rtt < 0 || rtt > maxSampleRTT {
		return
	}
	s := clockSample{offset: h.Time.Sub(sent.Add(rtt / 2).Round(0)), err: rtt / 2, at: received}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byNode == nil {
		c.byNode = map[string]clockSample{}
	}
	c.byNode[node] = s
}

// toPeer turns t, in this node's clock, into node's clock, erring early:
// no later than t on node's clock. Without a fresh sample, t as it is.
func (c *clocks) toPeer(node string, t time.Time) time.Time {
	c.mu.Lock()
	s, ok := c.byNode[node]
	c.mu.Unlock()
	if !ok || time.Since(s.at) > sampleTTL {
		return t
	}
	return t.Add(s.offset - s.err)
}
