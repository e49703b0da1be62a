package report

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/journal/forensic"
	"github.com/vipagent/vipagent/reactions"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable clock shared by the journal and the outbox.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// loadConfig parses and validates a test configuration; getenv serves
// secrets written as env:NAME.
func loadConfig(t *testing.T, yaml string, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("parse config: %v", err)
	}
	if err := cfg.Validate(func(k string) string { return env[k] }); err != nil {
		t.Fatalf("validate config: %v", err)
	}
	return cfg
}

// testEnv is a journal with the report policy and an outbox on it.
type testEnv struct {
	t    *testing.T
	cfg  *config.Config
	clk  *clock
	path string
	J    *journal.Journal
	O    *Outbox
	logs *agenttest.Buffer
	opts []Option
}

func newEnv(t *testing.T, cfg *config.Config, opts ...Option) *testEnv {
	t.Helper()
	e := &testEnv{t: t, cfg: cfg, clk: newClock(), path: filepath.Join(t.TempDir(), "journal.db"), logs: &agenttest.Buffer{}, opts: opts}
	e.open()
	t.Cleanup(e.close)
	return e
}

// open (re)opens the journal and builds a new outbox on it, as a restart
// of the agent does.
func (e *testEnv) open() {
	e.t.Helper()
	j, err := forensic.Open(e.path, journal.Options{Node: "rm1", Now: e.clk.Now})
	if err != nil {
		e.t.Fatalf("open journal: %v", err)
	}
	e.J = j
	opts := append([]Option{WithClock(e.clk.Now), WithRand(func() float64 { return 0.5 })}, e.opts...)
	e.O = New(j, e.cfg, zerolog.New(e.logs), opts...)
}

func (e *testEnv) close() {
	if e.O != nil {
		e.O.Close()
		e.O = nil
	}
	if e.J != nil {
		e.J.Close()
		e.J = nil
	}
}

// finish journals a finished event the way the engine does: through the
// outbox, which stores its reports with it.
func (e *testEnv) finish(status reactions.Status, a reactions.Alarm) *reactions.Event {
	e.t.Helper()
	ev, _, err := e.J.Accept(&reactions.Event{Node: "rm1", Source: reactions.SourceHTTP, Alarm: a, ReceivedAt: e.clk.Now()})
	if err != nil {
		e.t.Fatalf("accept: %v", err)
	}
	ev.Status = status
	ev.Result = &reactions.Result{
		EventID: ev.ID, Node: "rm1", Status: status, Reaction: "rm1-stopped",
		StartedAt: e.clk.Now(), FinishedAt: e.clk.Now(),
		Steps: []reactions.StepResult{{
			Index: 0, Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm1", Backend: "ip",
			Outcome: reactions.OutcomeChanged, Attempts: 1, DurationMS: 12.5,
			Before: &reactions.VIPState{Present: true, Detail: "192.0.2.100/24 on eth0"},
			After:  &reactions.VIPState{Present: false, Detail: "eth0 has no 192.0.2.100"},
			Exec:   &reactions.Exec{Argv: []string{"ip", "addr", "del", "192.0.2.100/24", "dev", "eth0"}},
		}},
	}
	if err := e.O.Finish(ev); err != nil {
		e.t.Fatalf("finish: %v", err)
	}
	return ev
}

func (e *testEnv) drain() int {
	e.t.Helper()
	n, err := e.O.Drain(e.t.Context())
	if err != nil {
		e.t.Fatalf("drain: %v", err)
	}
	return n
}

func (e *testEnv) report(id string) journal.Report {
	e.t.Helper()
	r, err := e.J.GetReport(id)
	if err != nil {
		e.t.Fatalf("get report: %v", err)
	}
	return r
}

// received is one request a sink got.
type received struct {
	ID     string
	Header http.Header
	Body   []byte
}

// sink is a report receiver whose answer the test sets. It can be stopped
// and started again on the same address.
type sink struct {
	t    *testing.T
	addr string
	srv  *httptest.Server

	mu       sync.Mutex
	answer   func(r received) (int, string)
	requests []received
	accepted []string
}

func newSink(t *testing.T) *sink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{t: t, addr: ln.Addr().String(), answer: func(received) (int, string) { return http.StatusOK, "ok" }}
	s.serve(ln)
	t.Cleanup(s.stop)
	return s
}

func (s *sink) URL() string { return "http://" + s.addr + "/hook" }

func (s *sink) serve(ln net.Listener) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(s.handle))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	s.srv = srv
}

// stop closes the listener: connections are refused until start.
func (s *sink) stop() {
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

func (s *sink) start() {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("listen again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

func (s *sink) setAnswer(f func(r received) (int, string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = f
}

func (s *sink) handle(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.t.Errorf("sink: read body: %v", err)
	}
	got := received{ID: r.Header.Get(HeaderReportID), Header: r.Header.Clone(), Body: body}
	s.mu.Lock()
	s.requests = append(s.requests, got)
	code, text := s.answer(got)
	if code >= 200 && code < 300 {
		s.accepted = append(s.accepted, got.ID)
	}
	s.mu.Unlock()
	w.WriteHeader(code)
	io.WriteString(w, text)
}

func (s *sink) Requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.requests...)
}

func (s *sink) Accepted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.accepted...)
}

func decodePayload(t *testing.T, b []byte) Payload {
	t.Helper()
	var p Payload
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("decode payload %s: %v", b, err)
	}
	return p
}
