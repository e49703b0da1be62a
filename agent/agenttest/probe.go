package agenttest

import (
	byteorder "encoding/binary"
	"net"
	"sync"
	"time"
)

// A probe is 8 bytes, its sequence number; the answer is the probe
// followed by the name of the node that answered. The client learns who
// holds a VIP as the network delivers it, which is what SIP Server sees.
const probeLen = 8

// Echo answers probes on one node.
type Echo struct {
	conn *net.UDPConn
	done chan struct{}
}

// StartEcho answers every probe that reaches conn with the probe followed
// by node. conn is opened by the caller, inside the node's network
// namespace where there is one, usually on the wildcard address: the VIP
// comes and goes, and the kernel delivers to it only while the node holds
// the address. Close stops it and closes conn.
func StartEcho(conn *net.UDPConn, node string) *Echo {
	e := &Echo{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		buf := make([]byte, 64)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return // closed
			}
			if n != probeLen {
				continue
			}
			_, _ = conn.WriteToUDP(append(buf[:probeLen:probeLen], node...), from)
		}
	}()
	return e
}

// Close stops answering and waits until the echo has stopped.
func (e *Echo) Close() {
	e.conn.Close()
	<-e.done
}

// Reply is one answer a Prober got.
type Reply struct {
	Seq  uint64
	Node string
	At   time.Time
}

// Prober sends a probe at a steady pace and records every answer: when,
// and which node sent it.
type Prober struct {
	conn *net.UDPConn
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	sent    int
	replies []Reply
}

// StartProber sends a probe to dst every every from conn (opened by the
// caller, in the client's namespace) until Close. After a stall it skips
// the missed slots instead of sending a burst.
func StartProber(conn *net.UDPConn, dst *net.UDPAddr, every time.Duration) *Prober {
	p := &Prober{conn: conn, stop: make(chan struct{})}
	p.wg.Add(2)
	go p.send(dst, every)
	go p.receive()
	return p
}

func (p *Prober) send(dst *net.UDPAddr, every time.Duration) {
	defer p.wg.Done()
	next := time.Now()
	var b [probeLen]byte
	for seq := uint64(0); ; seq++ {
		select {
		case <-p.stop:
			return
		default:
		}
		byteorder.BigEndian.PutUint64(b[:], seq)
		// A send fails while the client cannot resolve the VIP: that is
		// part of the outage, the answer will be missing.
		_, _ = p.conn.WriteToUDP(b[:], dst)
		p.mu.Lock()
		p.sent++
		p.mu.Unlock()
		next = next.Add(every)
		// The pace is what is measured: the sleep keeps to it.
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		} else if d < -every {
			next = time.Now()
		}
	}
}

func (p *Prober) receive() {
	defer p.wg.Done()
	buf := make([]byte, 64)
	for {
		n, _, err := p.conn.ReadFromUDP(buf)
		at := time.Now()
		if err != nil {
			select {
			case <-p.stop:
				return
			default:
			}
			continue
		}
		if n <= probeLen {
			continue
		}
		r := Reply{Seq: byteorder.BigEndian.Uint64(buf[:probeLen]), Node: string(buf[probeLen:n]), At: at}
		p.mu.Lock()
		p.replies = append(p.replies, r)
		p.mu.Unlock()
	}
}

// Sent is the number of probes sent so far.
func (p *Prober) Sent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent
}

// Replies returns a copy of every answer so far, in arrival order.
func (p *Prober) Replies() []Reply {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Reply(nil), p.replies...)
}

// LastFrom is the time of the latest answer from node, zero if none.
func (p *Prober) LastFrom(node string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.replies) - 1; i >= 0; i-- {
		if p.replies[i].Node == node {
			return p.replies[i].At
		}
	}
	return time.Time{}
}

// CountFrom is the number of answers node has sent so far.
func (p *Prober) CountFrom(node string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.replies {
		if r.Node == node {
			n++
		}
	}
	return n
}

// Close stops probing, closes the connection and waits for both halves.
func (p *Prober) Close() {
	close(p.stop)
	p.conn.Close()
	p.wg.Wait()
}
