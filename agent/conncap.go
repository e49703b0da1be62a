package agent

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// cappedListener holds the API's open connections to a cap. At the cap a
// new connection evicts the oldest one that is not serving a request (new
// and silent, or idle between requests), so a flood of connections that
// send nothing, or keep-alives parked by strangers, can never make a real
// caller wait in the kernel's queue; only when every connection is busy
// is the new one closed at once, which the caller sees as a refusal it
// can act on instead of a hang.
type cappedListener struct {
	net.Listener
	max int

	mu    sync.Mutex
	conns map[*cappedConn]struct{}
}

func newCappedListener(ln net.Listener, max int) *cappedListener {
	return &cappedListener{Listener: ln, max: max, conns: map[*cappedConn]struct{}{}}
}

// cappedConn is one accepted connection and what the server last said
// about it.
type cappedConn struct {
	net.Conn
	ln    *cappedListener
	since time.Time
	busy  bool
	once  sync.Once
}

func (c *cappedConn) Close() error {
	c.once.Do(func() {
		c.ln.mu.Lock()
		delete(c.ln.conns, c)
		c.ln.mu.Unlock()
	})
	return c.Conn.Close()
}

func (l *cappedListener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		c := &cappedConn{Conn: nc, ln: l, since: time.Now()}
		l.mu.Lock()
		var victim *cappedConn
		if len(l.conns) >= l.max {
			for o := range l.conns {
				if !o.busy && (victim == nil || o.since.Before(victim.since)) {
					victim = o
				}
			}
			if victim == nil {
				l.mu.Unlock()
				nc.Close()
				continue
			}
			delete(l.conns, victim)
		}
		l.conns[c] = struct{}{}
		l.mu.Unlock()
		if victim != nil {
			victim.Conn.Close()
		}
		return c, nil
	}
}

// track is the server's ConnState hook: a connection serving a request is
// busy and never evicted; a new or idle one may be.
func (l *cappedListener) track(nc net.Conn, st http.ConnState) {
	if t, ok := nc.(*tls.Conn); ok {
		nc = t.NetConn()
	}
	c, ok := nc.(*cappedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch st {
	case http.StateActive:
		c.busy = true
	case http.StateIdle:
		c.busy = false
		c.since = time.Now()
	}
}
