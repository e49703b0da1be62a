package httpapi_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// pipeListener hands the server one end of in-memory, unbuffered pipes:
// a response the client does not read blocks the server's write at once,
// with no socket buffer to hide it.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}
func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// TestUnreadResponseIsCut: a client that asks and never reads holds its
// connection for write_timeout after the answer starts, not for minutes.
func TestUnreadResponseIsCut(t *testing.T) {
	a := newAPI(t, "  write_timeout: 300ms\n", nil)
	closed := make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(a.m.Handler)
	ln := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	srv.Listener = ln
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	defer srv.Close()
	client, server := net.Pipe()
	defer client.Close()
	ln.conns <- server
	// A long response: the 404 page names the path.
	path := "/" + strings.Repeat("x", 1<<20)
	if _, err := fmt.Fprintf(client, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("the server still writes to a client that does not read (hang-guard)")
	}
}

// TestLongWaitOutlivesWriteTimeout: the wait happens before the answer is
// written, so a ?wait= longer than write_timeout still gets its answer.
func TestLongWaitOutlivesWriteTimeout(t *testing.T) {
	a := newAPI(t, "  write_timeout: 100ms\n", nil)
	code, _, body := a.do("POST", "/v1/alarms?wait=10s", "application/json", []byte(`{"condition":"Slow"}`))
	if code != 200 {
		t.Fatalf("slow alarm with a long wait: %d %s", code, body)
	}
}

// TestRequestMemoryCeiling: the worst bodies the JSON doors accept or
// refuse (at the default 64 KiB limit) cost each request at most 8 MiB of
// allocation, whatever their shape.
func TestRequestMemoryCeiling(t *testing.T) {
	a := newAPI(t, "", nil)
	a.m.Config.Limits.MaxBodyBytes = 64 << 10
	fill := func(prefix, unit, suffix string) string {
		n := (64<<10 - len(prefix) - len(suffix)) / len(unit)
		return prefix + strings.Repeat(unit, n) + suffix
	}
	bodies := map[string]string{
		"/v1/alarms nesting bomb":       fill(`{"condition":"X","labels":`, "[", ""),
		"/v1/alarms array":              fill(`{"condition":"X","labels":{"a":[`, "1,", `1]}}`),
		"/v1/alarms labels":             fill(`{"condition":"Nobody","labels":{`, `"k":"v",`, `"z":"v"}}`),
		"/v1/alertmanager nesting bomb": fill(`{"version":"4","alerts":`, "{\"a\":", ""),
		"/v1/alertmanager alerts":       fill(`{"version":"4","status":"firing","receiver":"r","alerts":[`, `{"status":"firing","labels":{"alertname":"Nobody"}},`, `{}]}`),
	}
	for name, body := range bodies {
		path, _, _ := strings.Cut(name, " ")
		serve := func() {
			req := httptest.NewRequest("POST", path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			a.m.Handler.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s: %d %s", name, rec.Code, rec.Body)
			}
		}
		serve()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		serve()
		runtime.ReadMemStats(&after)
		if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
			t.Errorf("%s: one request allocated %d bytes, want at most 8 MiB", name, got)
		} else {
			t.Logf("%s: %d KiB", name, got>>10)
		}
	}
}

// TestListsInFlightBounded: readers that never read can hold at most a few
// journal pages at once; the rest are told to come back, and an alarm is
// served all along.
func TestListsInFlightBounded(t *testing.T) {
	// write_timeout long enough that the held lists are not cut while
	// the test runs on a loaded machine.
	a := newAPI(t, "  write_timeout: 2m\n  rate_per_minute: 0\n", nil)
	// A list far longer than the server's buffers (about 6 KiB): its handler blocks in
	// Write until the reader reads.
	for i := range 10 {
		body := fmt.Sprintf(`{"id":"big-%d","condition":"Nobody","text":%q}`, i, strings.Repeat("x", 1500))
		if code, _, resp := a.do("POST", "/v1/alarms?wait=0s", "application/json", []byte(body)); code >= 300 && code != 422 {
			t.Fatalf("alarm: %d %s", code, resp)
		}
	}
	srv := httptest.NewUnstartedServer(a.m.Handler)
	ln := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	// Unbuffered pipes: a list nobody reads stays in flight. Each is
	// read as far as its status line, which the server sends only once its
	// buffers are full: a 200 is a list holding its slot, blocked in Write.
	// (A pipe may arrive while another list is served and be refused; it
	// is replaced.)
	for held := 0; held < 4; {
		client, server := net.Pipe()
		defer client.Close()
		ln.conns <- server
		go fmt.Fprintf(client, "GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
		_ = client.SetReadDeadline(time.Now().Add(30 * time.Second))
		status := make([]byte, len("HTTP/1.1 200"))
		if _, err := io.ReadFull(client, status); err != nil {
			t.Fatalf("held list %d: no status: %v", held, err)
		}
		if string(status) == "HTTP/1.1 200" {
			held++
		}
	}
	if code, _, body := a.do("GET", "/v1/events", "", nil); code != 503 || !strings.Contains(string(body), "too many lists") {
		t.Fatalf("a fifth list answered %d %s while four were unread, want 503", code, body)
	}
	if code, _, body := a.do("POST", "/v1/alarms?wait=5s", "application/json", []byte(`{"condition":"RM1_Stopped"}`)); code != 200 {
		t.Errorf("alarm while lists are held: %d %s", code, body)
	}
}
