package chaos

import (
	"encoding/binary"
	"net"
	"sync"
	"time"

	"github.com/vishvananda/netns"

	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

const (
	// echoPort is where each node's echo server answers the client's probes.
	echoPort = 9999
	// probeEvery is the client's probing interval.
	probeEvery = time.Millisecond
)

// echoServer answers every probe that reaches its node, appending the
// node's name, so the client learns who holds the VIP as the network
// delivers it. It listens on the wildcard address: the VIP comes and goes,
// and the kernel delivers to it only while the node holds the address.
type echoServer struct {
	conn *net.UDPConn
	done chan struct{}
}

func startEcho(ns netns.NsHandle, node string) (*echoServer, error) {
	e := &echoServer{done: make(chan struct{})}
	err := viptest.RunIn(ns, func() error {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{Port: echoPort})
		e.conn = c
		return err
	})
	if err != nil {
		return nil, err
	}
	go func() {
		defer close(e.done)
		buf := make([]byte, 64)
		for {
			n, from, err := e.conn.ReadFromUDP(buf)
			if err != nil {
				return // closed
			}
			if n != 8 {
				continue
			}
			reply := append(buf[:8:8], node...)
			_, _ = e.conn.WriteToUDP(reply, from)
		}
	}()
	return e, nil
}

func (e *echoServer) Close() {
	e.conn.Close()
	<-e.done
}

// reply is one answer the client got.
type reply struct {
	seq  uint64
	node string
	at   time.Time
}

// prober sends a UDP probe to the VIP every probeEvery from the client's
// namespace and records every answer: when, and which node sent it.
type prober struct {
	conn *net.UDPConn
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	sent    int
	replies []reply
}

func startProber(ns netns.NsHandle, src, vip net.IP) (*prober, error) {
	p := &prober{stop: make(chan struct{})}
	err := viptest.RunIn(ns, func() error {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: src})
		p.conn = c
		return err
	})
	if err != nil {
		return nil, err
	}
	p.wg.Add(2)
	go p.send(&net.UDPAddr{IP: vip, Port: echoPort})
	go p.receive()
	return p, nil
}

// send keeps to a fixed pace; after a stall it skips the missed slots
// instead of sending a burst.
func (p *prober) send(dst *net.UDPAddr) {
	defer p.wg.Done()
	next := time.Now()
	var b [8]byte
	for seq := uint64(0); ; seq++ {
		select {
		case <-p.stop:
			return
		default:
		}
		binary.BigEndian.PutUint64(b[:], seq)
		// A send fails while the client cannot resolve the VIP: that is
		// part of the outage, the answer will be missing.
		_, _ = p.conn.WriteToUDP(b[:], dst)
		p.mu.Lock()
		p.sent++
		p.mu.Unlock()
		next = next.Add(probeEvery)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		} else if d < -probeEvery {
			next = time.Now()
		}
	}
}

func (p *prober) receive() {
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
		if n <= 8 {
			continue
		}
		r := reply{seq: binary.BigEndian.Uint64(buf[:8]), node: string(buf[8:n]), at: at}
		p.mu.Lock()
		p.replies = append(p.replies, r)
		p.mu.Unlock()
	}
}

// lastFrom is the time of the latest answer from node (zero if none).
func (p *prober) lastFrom(node string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.replies) - 1; i >= 0; i-- {
		if p.replies[i].node == node {
			return p.replies[i].at
		}
	}
	return time.Time{}
}

// answers returns a copy of every answer so far, in arrival order.
func (p *prober) answers() []reply {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]reply(nil), p.replies...)
}

func (p *prober) Close() {
	close(p.stop)
	p.conn.Close()
	p.wg.Wait()
}

// longestGap is the longest time without any answer within the window
// [from, to]: the client-observed outage in it. A silence that began
// before the window counts from the window's start, one that lasts past
// its end up to the end. Answers are in arrival order.
func longestGap(rs []reply, from, to time.Time) time.Duration {
	var gap time.Duration
	prev := from
	for _, r := range rs {
		if !r.at.After(from) {
			continue
		}
		if r.at.After(to) {
			return max(gap, to.Sub(prev))
		}
		gap = max(gap, r.at.Sub(prev))
		prev = r.at
	}
	return max(gap, to.Sub(prev))
}
