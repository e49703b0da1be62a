package chaos

import (
	"net"
	"sync"
	"time"

	"github.com/vishvananda/netns"

	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// proxyMode is what the peer-path proxy does with the bytes it carries.
type proxyMode string

const (
	// proxyPass forwards at once.
	proxyPass proxyMode = "pass"
	// proxyDelay forwards every chunk after a delay.
	proxyDelay proxyMode = "delay"
	// proxyStall accepts connections and reads from them, but forwards
	// nothing until the mode changes: a black hole that keeps TCP happy.
	// What was read meanwhile is delivered late, as TCP's retransmissions
	// would once a real path comes back.
	proxyStall proxyMode = "stall"
	// proxyCut closes every connection and every new one at once.
	proxyCut proxyMode = "cut"
)

// proxy is a small TCP proxy in the manner of Toxiproxy: it listens on
// loopback inside one node's namespace and forwards to the other node's
// agent over the lab's bridge, so that the peer path also suffers the lab's
// partitions and packet loss, and the proxy can add delay or a stall.
type proxy struct {
	name   string // "rm1->rm2": the agent whose peer calls it carries, and where to
	ln     net.Listener
	ns     netns.NsHandle
	target string

	mu     sync.Mutex
	mode   proxyMode
	delay  time.Duration
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// startProxy listens on listen inside ns and forwards to target, dialled
// from ns too.
func startProxy(name string, ns netns.NsHandle, listen, target string) (*proxy, error) {
	p := &proxy{name: name, ns: ns, target: target, mode: proxyPass, conns: map[net.Conn]struct{}{}}
	err := viptest.RunIn(ns, func() error {
		ln, err := net.Listen("tcp4", listen)
		p.ln = ln
		return err
	})
	if err != nil {
		return nil, err
	}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		if !p.track(c) {
			c.Close()
			return
		}
		p.wg.Add(1)
		go p.handle(c)
	}
}

// track registers c so that cut and Close can end it; false once closed.
func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *proxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *proxy) handle(c net.Conn) {
	defer p.wg.Done()
	defer p.drop(c)
	if _, ok := p.gate(); !ok {
		return
	}
	var up net.Conn
	err := viptest.RunIn(p.ns, func() error {
		var err error
		up, err = (&net.Dialer{Timeout: 2 * time.Second}).Dial("tcp4", p.target)
		return err
	})
	if err != nil {
		return
	}
	if !p.track(up) {
		up.Close()
		return
	}
	defer p.drop(up)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.pipe(c, up)
	}()
	p.pipe(up, c)
	<-done
}

// pipe copies src to dst through the proxy's current mode; when either
// side ends, both do.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			delay, ok := p.gate()
			if !ok {
				return
			}
			if delay > 0 {
				time.Sleep(delay) // the injected fault: a slow link
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// gate waits while the proxy stalls and returns the delay to apply, or
// false when the connection must end (cut, or the proxy closed). A stall
// lasts until the fault is healed: heals and Close are always called.
func (p *proxy) gate() (time.Duration, bool) {
	for {
		p.mu.Lock()
		mode, delay, closed := p.mode, p.delay, p.closed
		p.mu.Unlock()
		switch {
		case closed || mode == proxyCut:
			return 0, false
		case mode == proxyDelay:
			return delay, true
		case mode == proxyPass:
			return 0, true
		}
		// The stall is the injected fault; it ends when the test heals it.
		time.Sleep(5 * time.Millisecond)
	}
}

// set changes the mode; cut ends every open connection at once.
func (p *proxy) set(mode proxyMode, delay time.Duration) {
	p.mu.Lock()
	p.mode, p.delay = mode, delay
	var cut []net.Conn
	if mode == proxyCut {
		for c := range p.conns {
			cut = append(cut, c)
		}
	}
	p.mu.Unlock()
	for _, c := range cut {
		c.Close()
	}
}

// Close stops listening, ends every connection and waits for them.
func (p *proxy) Close() {
	p.mu.Lock()
	p.closed = true
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
}
