package agent

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// serveCapped serves h on a loopback listener capped at max connections.
func serveCapped(t *testing.T, max int, h http.Handler) (*cappedListener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	capped := newCappedListener(ln, max)
	srv := &http.Server{Handler: h, ConnState: capped.track, ReadHeaderTimeout: time.Minute}
	go func() { _ = srv.Serve(capped) }()
	t.Cleanup(func() { srv.Close() })
	return capped, ln.Addr().String()
}

func get(t *testing.T, addr string) (int, error) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// TestConnectionFloodAtTheCapServesTheCaller: with every connection held
// by clients that send nothing, a caller is still served at once, and the
// oldest silent connection is the one that makes room.
func TestConnectionFloodAtTheCapServesTheCaller(t *testing.T) {
	capped, addr := serveCapped(t, 4, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	var silent []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	// The listener has them all once the next Accept has run: a request
	// answered means every earlier connection was accepted before it.
	for range 2 {
		if code, err := get(t, addr); err != nil || code != 200 {
			t.Fatalf("request at the cap: %d %v", code, err)
		}
	}
	capped.mu.Lock()
	n := len(capped.conns)
	capped.mu.Unlock()
	if n > 4 {
		t.Errorf("%d connections open, cap 4", n)
	}
	// The oldest silent connections made room, oldest first: the first
	// request evicted the first one; the second request evicted at most
	// one more (if the first request's connection was not yet closed).
	var evicted []bool
	for _, c := range silent {
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		evicted = append(evicted, err == io.EOF || (err != nil && !isTimeout(err)))
	}
	if !evicted[0] || evicted[2] || evicted[3] {
		t.Errorf("evicted silent connections %v, want the oldest first (one or two of them)", evicted)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestConnectionsAllBusyRefuseAtOnce: when every connection serves a
// request, a new one is closed at once rather than queued.
func TestConnectionsAllBusyRefuseAtOnce(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	_, addr := serveCapped(t, 2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
	}))
	done := make(chan struct{}, 2)
	for range 2 {
		go func() { _, _ = get(t, addr); done <- struct{}{} }()
	}
	<-started
	<-started
	if _, err := get(t, addr); err == nil {
		t.Error("a third request was served while both connections were busy")
	}
	close(release)
	<-done
	<-done
}
