package report

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

// A sink that answers 503, then refuses connections, then comes back gets
// every result exactly once, in the order produced, although the agent
// restarted in between; a second target that stayed up is not held back.
func TestSinkDownThenBack(t *testing.T) {
	snk, audit := newSink(t), newSink(t)
	cfg := loadConfig(t, fmt.Sprintf(`
node: rm1
nodes: {rm1: {}}
reports:
  - name: sink
    url: %s
  - name: audit
    url: %s
`, snk.URL(), audit.URL()), nil)
	e := newEnv(t, cfg)

	snk.setAnswer(func(received) (int, string) { return http.StatusServiceUnavailable, "maintenance" })
	e1 := e.finish(reactions.StatusSucceeded, reactions.Alarm{Condition: "RM1_Stopped"})
	e2 := e.finish(reactions.StatusFailed, reactions.Alarm{Condition: "RM2_Stopped"})
	if n := e.drain(); n != 2 {
		t.Errorf("first drain delivered %d, want 2 (the audit target's)", n)
	}
	if got := len(snk.Requests()); got != 1 {
		t.Errorf("sink got %d requests while answering 503, want 1 (later reports wait behind the first)", got)
	}
	r1 := e.report(ID(e1.ID, "sink"))
	if r1.State != journal.ReportPending || r1.Attempts != 1 || r1.LastStatus != 503 || !strings.Contains(r1.LastError, "HTTP 503") || !strings.Contains(r1.LastError, "maintenance") {
		t.Errorf("after 503: %+v", ViewOf(r1))
	}
	if want := e.clk.Now().Add(Backoff(1, 0.5)); !r1.NextAttempt.Equal(want) {
		t.Errorf("next attempt %s, want %s", r1.NextAttempt, want)
	}
	if r2 := e.report(ID(e2.ID, "sink")); r2.Attempts != 0 {
		t.Errorf("second report was attempted before the first was delivered: %+v", ViewOf(r2))
	}

	snk.stop()
	e.clk.Add(time.Minute)
	e3 := e.finish(reactions.StatusSucceeded, reactions.Alarm{Condition: "RM1_Stopped"})
	if n := e.drain(); n != 1 {
		t.Errorf("second drain delivered %d, want 1 (audit)", n)
	}
	r1 = e.report(ID(e1.ID, "sink"))
	if r1.State != journal.ReportPending || r1.Attempts != 2 || r1.LastStatus != 0 || !strings.Contains(r1.LastError, "post to http://"+snk.addr) {
		t.Errorf("after the sink went away: %+v", ViewOf(r1))
	}

	// Restart: close everything, open the same journal again.
	e.close()
	e.open()
	e4 := e.finish(reactions.StatusTimeout, reactions.Alarm{Condition: "RM2_Stopped"})
	snk.start()
	snk.setAnswer(func(received) (int, string) { return http.StatusNoContent, "" })
	e.clk.Add(time.Hour)
	if n := e.drain(); n != 5 {
		t.Errorf("drain after the sink came back delivered %d, want 5 (4 sink + 1 audit)", n)
	}
	e.clk.Add(time.Hour)
	if n := e.drain(); n != 0 {
		t.Errorf("another drain delivered %d more", n)
	}
	var want []string
	for _, ev := range []*reactions.Event{e1, e2, e3, e4} {
		want = append(want, ID(ev.ID, "sink"))
	}
	if diff := cmp.Diff(want, snk.Accepted()); diff != "" {
		t.Errorf("sink deliveries (-want +got):\n%s", diff)
	}
	var wantAudit []string
	for _, ev := range []*reactions.Event{e1, e2, e3, e4} {
		wantAudit = append(wantAudit, ID(ev.ID, "audit"))
	}
	if diff := cmp.Diff(wantAudit, audit.Accepted()); diff != "" {
		t.Errorf("audit deliveries (-want +got):\n%s", diff)
	}
	for _, req := range snk.Requests() {
		p := decodePayload(t, req.Body)
		if p.ReportID != req.ID || p.Node != "rm1" || p.Result == nil || p.Result.EventID != p.Event.ID {
			t.Errorf("payload does not match its report: header %s, payload %+v", req.ID, p)
		}
	}
	for _, id := range want {
		if r := e.report(id); r.State != journal.ReportDelivered || r.DoneAt.IsZero() {
			t.Errorf("report %s: state %s, done %s", id, r.State, r.DoneAt)
		}
	}
	if r := e.report(ID(e1.ID, "sink")); r.Attempts != 3 || r.LastError != "" || r.LastStatus != 204 {
		t.Errorf("first report after delivery: %+v", ViewOf(r))
	}
}

// A 4xx other than 429 is final: the report is rejected with the status
// and what the receiver said, it does not hold back later reports, and
// it is only sent again when someone asks.
func TestRejectedIsNotRetried(t *testing.T) {
	snk := newSink(t)
	cfg := loadConfig(t, fmt.Sprintf("node: rm1\nnodes: {rm1: {}}\nreports: [{name: sink, url: %q}]\n", snk.URL()), nil)
	e := newEnv(t, cfg)
	e1 := e.finish(reactions.StatusSucceeded, reactions.Alarm{Condition: "RM1_Stopped"})
	e2 := e.finish(reactions.StatusSucceeded, reactions.Alarm{Condition: "RM1_Stopped"})
	bad := ID(e1.ID, "sink")
	snk.setAnswer(func(r received) (int, string) {
		if r.ID == bad {
			return http.StatusBadRequest, "bad payload:\n\tmissing field \"x\"\n"
		}
		return http.StatusOK, "ok"
	})
	if n := e.drain(); n != 1 {
		t.Errorf("delivered %d, want 1", n)
	}
	r := e.report(bad)
	if r.State != journal.ReportRejected || r.LastStatus != 400 || r.Attempts != 1 || r.DoneAt.IsZero() {
		t.Errorf("rejected report: %+v", ViewOf(r))
	}
	if want := `rejected by ` + snk.URL() + ` with HTTP 400: bad payload: missing field "x"`; r.LastError != want {
		t.Errorf("last error %q, want %q", r.LastError, want)
	}
	if got := e.report(ID(e2.ID, "sink")).State; got != journal.ReportDelivered {
		t.Errorf("report after the rejected one: %s, want delivered", got)
	}
	e.clk.Add(24 * time.Hour)
	if n := e.drain(); n != 0 {
		t.Errorf("drain again delivered %d", n)
	}
	if got := len(snk.Requests()); got != 2 {
		t.Errorf("sink got %d requests, want 2: a rejected report is not retried", got)
	}

	// Fixed on the receiver's side: send it again on request.
	snk.setAnswer(func(received) (int, string) { return http.StatusOK, "ok" })
	if _, err := e.O.Retry(bad); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := e.drain(); n != 1 {
		t.Errorf("drain after retry delivered %d, want 1", n)
	}
	if r := e.report(bad); r.State != journal.ReportDelivered || r.Attempts != 2 {
		t.Errorf("retried report: %+v", ViewOf(r))
	}
	if _, err := e.O.Retry(bad); !errors.Is(err, reactions.ErrConflict) {
		t.Errorf("retry of a delivered report: %v, want ErrConflict", err)
	}
	if _, err := e.O.Retry("no-such-report"); !errors.Is(err, reactions.ErrNotFound) {
		t.Errorf("retry of an unknown report: %v, want ErrNotFound", err)
	}
}

// verifier is a report receiver as a user would write it: it checks the
// timestamp window and the HMAC over timestamp, method, path and query, and
// body, each joined with ".".
func verifier(secret string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get("X-Vipagent-Timestamp")
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
			http.Error(w, "stale timestamp", http.StatusUnauthorized)
			return
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(ts + "." + r.Method + "." + r.URL.RequestURI() + "." + string(body)))
		want := "sha256=" + hex.EncodeToString(m.Sum(nil))
		if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Vipagent-Signature"))) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

func TestSignature(t *testing.T) {
	const secret = "correct horse battery staple"
	var (
		mu   sync.Mutex
		last *http.Request
		body []byte
	)
	check := verifier(secret)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		last, body = r.Clone(context.Background()), b
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		check(w, r)
	}))
	defer recv.Close()
	plain := newSink(t)
	cfg := loadConfig(t, fmt.Sprintf(`
node: rm1
nodes: {rm1: {}}
reports:
  - name: signed
    url: %s
    secret: env:REPORT_SECRET
    headers:
      X-Team: rm-oncall
      Content-Type: text/plain
      X-Vipagent-Signature: forged
  - name: plain
    url: %s
`, recv.URL, plain.URL()), map[string]string{"REPORT_SECRET": secret})
	// The receiver checks against the real time.
	e := newEnv(t, cfg, WithClock(time.Now))
	ev := e.finish(reactions.StatusSucceeded, reactions.Alarm{Condition: "RM1_Stopped"})
	if n := e.drain(); n != 2 {
		t.Fatalf("delivered %d, want 2; signed report: %+v", n, ViewOf(e.report(ID(ev.ID, "signed"))))
	}
	mu.Lock()
	h, b := last.Header, body
	mu.Unlock()
	if got := h.Get("X-Team"); got != "rm-oncall" {
		t.Errorf("configured header X-Team = %q", got)
	}
	if got := h.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q: configured headers must not replace it", got)
	}
	if got := h.Get(HeaderReportID); got != ID(ev.ID, "signed") || decodePayload(t, b).ReportID != got {
		t.Errorf("report ID header %q, body %s", got, b)
	}

	// The same request with a changed body fails the receiver's check.
	tampered := bytes.Replace(b, []byte(`"succeeded"`), []byte(`"failed"`), 1)
	if bytes.Equal(tampered, b) {
		t.Fatalf("test did not change the body: %s", b)
	}
	// So does the same request sent to another path: the signature is
	// bound to the receiver's method and path.
	for _, tt := range []struct {
		name, path string
		data       []byte
		want       int
	}{
		{"original", "", b, http.StatusOK},
		{"tampered body", "", tampered, http.StatusUnauthorized},
		{"another path", "/v1/events/x/replay", b, http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest(http.MethodPost, recv.URL+tt.path, bytes.NewReader(tt.data))
		req.Header = h.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: receiver answered %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}

	reqs := plain.Requests()
	if len(reqs) != 1 {
		t.Fatalf("plain target got %d requests", len(reqs))
	}
	if sig := reqs[0].Header.Get("X-Vipagent-Signature"); sig != "" {
		t.Errorf("target without secret got a signature %q", sig)
	}
	if reqs[0].Header.Get("X-Vipagent-Timestamp") == "" || reqs[0].Header.Get(HeaderReportID) != ID(ev.ID, "plain") {
		t.Errorf("plain target headers: %v", reqs[0].Header)
	}
	if strings.Contains(e.logs.String(), secret) {
		t.Errorf("the secret is in the log:\n%s", e.logs)
	}
}

// A callback_url receives the full result, signed with auth.callback_secret
// (never with the webhook secret, which the agent accepts).
func TestCallback(t *testing.T) {
	const secret = "callback-secret-0123456789"
	var (
		mu  sync.Mutex
		got []byte
	)
	check := verifier(secret)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = b
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		check(w, r)
	}))
	defer recv.Close()
	host := strings.TrimPrefix(recv.URL, "http://")
	cfg := loadConfig(t, fmt.Sprintf("node: rm1\nnodes: {rm1: {}}\ncallback_hosts: [%q]\nauth: {webhook_secret: env:WH, callback_secret: env:CB}\n", host),
		map[string]string{"WH": "webhook-secret-0123456789", "CB": secret})
	e := newEnv(t, cfg, WithClock(time.Now))
	ev := e.finish(reactions.StatusFailed, reactions.Alarm{Condition: "RM1_Stopped", CallbackURL: recv.URL + "/cb?ticket=42"})
	if n := e.drain(); n != 1 {
		t.Fatalf("delivered %d, want 1: %+v", n, ViewOf(e.report(ID(ev.ID, CallbackTarget))))
	}
	mu.Lock()
	p := decodePayload(t, got)
	mu.Unlock()
	if p.ReportID != ID(ev.ID, CallbackTarget) || p.Result.Status != reactions.StatusFailed {
		t.Errorf("callback payload: %+v", p)
	}
	if diff := cmp.Diff(ev.Result.Steps, p.Result.Steps); diff != "" {
		t.Errorf("callback steps are the full steps (-want +got):\n%s", diff)
	}
	if p.Event.Alarm.CallbackURL != "" {
		t.Errorf("payload repeats the callback URL %q", p.Event.Alarm.CallbackURL)
	}
	v := ViewOf(e.report(p.ReportID))
	if v.URL != recv.URL+"/cb?redacted" || v.Target != CallbackTarget || v.BodyBytes != len(got) {
		t.Errorf("view: %+v", v)
	}
}

func TestBackoffBounds(t *testing.T) {
	tests := []struct {
		attempts int
		full     time.Duration
	}{
		{1, time.Second},
		{2, 2 * time.Second},
		{3, 4 * time.Second},
		{8, 128 * time.Second},
		{9, 256 * time.Second},
		{10, 5 * time.Minute},
		{11, 5 * time.Minute},
		{1000, 5 * time.Minute},
	}
	for _, tt := range tests {
		lo, hi := Backoff(tt.attempts, 0), Backoff(tt.attempts, 0.999999)
		if lo != tt.full/2 {
			t.Errorf("attempts %d: lowest delay %s, want %s", tt.attempts, lo, tt.full/2)
		}
		if hi < tt.full*99/100 || hi > tt.full {
			t.Errorf("attempts %d: highest delay %s, want just under %s", tt.attempts, hi, tt.full)
		}
		for _, r := range []float64{0.1, 0.5, 0.9} {
			if d := Backoff(tt.attempts, r); d < lo || d > hi {
				t.Errorf("attempts %d, r %v: %s outside [%s, %s]", tt.attempts, r, d, lo, hi)
			}
		}
	}
}

// Against a receiver that keeps failing, the saved NextAttempt grows and
// stops growing at the cap; Retry-After is honoured.
func TestBackoffSaved(t *testing.T) {
	snk := newSink(t)
	snk.setAnswer(func(received) (int, string) { return http.StatusBadGateway, "" })
	cfg := loadConfig(t, fmt.Sprintf("node: rm1\nnodes: {rm1: {}}\nreports: [{name: sink, url: %q}]\n", snk.URL()), nil)
	var (
		mu    sync.Mutex
		draws = []float64{0, 0.999999}
		n     int
	)
	// Alternate the lowest and highest jitter.
	e := newEnv(t, cfg, WithRand(func() float64 {
		mu.Lock()
		defer mu.Unlock()
		n++
		return draws[n%2]
	}))
	ev := e.finish(reactions.StatusSucceeded, reactions.Alarm{Condition: "RM1_Stopped"})
	id := ID(ev.ID, "sink")
	var delays []time.Duration
	for i := 0; i < 14; i++ {
		e.drain()
		r := e.report(id)
		if r.Attempts != i+1 || r.LastStatus != http.StatusBadGateway {
			t.Fatalf("attempt %d: %+v", i+1, ViewOf(r))
		}
		delays = append(delays, r.NextAttempt.Sub(e.clk.Now()))
		e.clk.Set(r.NextAttempt)
	}
	for i, d := range delays {
		full := min(time.Second<<i, 5*time.Minute)
		if d < full/2 || d > full {
			t.Errorf("attempt %d: delay %s outside [%s, %s]", i+1, d, full/2, full)
		}
		if i > 0 && d < delays[i-1]/2 {
			t.Errorf("attempt %d: delay %s shrank from %s", i+1, d, delays[i-1])
		}
	}
	if last := delays[len(delays)-1]; last > 5*time.Minute {
		t.Errorf("delay %s beyond the cap", last)
	}
	if delays[13] < delays[0]*100 {
		t.Errorf("delays did not grow: %v", delays)
	}

}

// A receiver that answers 429 or 503 with Retry-After gets that long, or
// the backoff when it is longer.
func TestRetryAfter(t *testing.T) {
	tests := []struct {
		status     int
		retryAfter string
		want       time.Duration
	}{
		{http.StatusTooManyRequests, "120", 120 * time.Second},
		{http.StatusServiceUnavailable, "120", 120 * time.Second},
		{http.StatusTooManyRequests, "", Backoff(1, 0.5)},
		{http.StatusTooManyRequests, "3600", BackoffCap},
		{http.StatusTooManyRequests, "soon", Backoff(1, 0.5)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %q", tt.status, tt.retryAfter), func(t *testing.T) {
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
			}))
			defer recv.Close()
			cfg := loadConfig(t, fmt.Sprintf("node: rm1\nnodes: {rm1: {}}\nreports: [{name: sink, url: %q}]\n", recv.URL), nil)
			e := newEnv(t, cfg)
			ev := e.finish(reactions.StatusSucceeded, reactions.Alarm{Condition: "RM1_Stopped"})
			e.drain()
			r := e.report(ID(ev.ID, "sink"))
			if r.State != journal.ReportPending || r.LastStatus != tt.status {
				t.Fatalf("report: %+v", ViewOf(r))
			}
			if got := r.NextAttempt.Sub(e.clk.Now()); got != tt.want {
				t.Errorf("next attempt in %s, want %s", got, tt.want)
			}
		})
	}
}

// A report older than report_max_age is given up without another request.
func TestExpired(t *testing.T) {
	snk := newSink(t)
	snk.setAnswer(func(received) (int, string) { return http.StatusServiceUnavailable, "down" })
	cfg := loadConfig(t, fmt.Sprintf("node: rm1\nnodes: {rm1: {}}\nreports: [{name: sink, url: %q}]\nschedules: {report_max_age: 1h}\n", snk.URL()), nil)
	e := newEnv(t, cfg)
	ev := e.finish(reactions.StatusSucceeded, reactions.Alarm{Condition: "RM1_Stopped"})
	e.drain()
	e.clk.Add(61 * time.Minute)
	e.drain()
	r := e.report(ID(ev.ID, "sink"))
	if r.State != journal.ReportExpired || r.Attempts != 1 || r.DoneAt.IsZero() ||
		!strings.Contains(r.LastError, "older than report_max_age 1h0m0s") || !strings.Contains(r.LastError, "HTTP 503") {
		t.Errorf("expired report: %+v", ViewOf(r))
	}
	if got := len(snk.Requests()); got != 1 {
		t.Errorf("sink got %d requests, want 1", got)
	}
	// Retry gives it a fresh age.
	snk.setAnswer(func(received) (int, string) { return http.StatusOK, "" })
	if _, err := e.O.Retry(r.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.drain(); n != 1 {
		t.Errorf("delivered %d after retry, want 1", n)
	}
}

// URLs with credentials and secrets never reach errors, views or logs.
func TestRedaction(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	cfg := loadConfig(t, fmt.Sprintf(`
node: rm1
nodes: {rm1: {}}
reports:
  - name: sink
    url: http://alice:hunter2@%s/hook?token=t0ps3cret
    secret: s1gning-k3y
    headers: {Authorization: "Bearer b34rer"}
`, addr), nil)
	e := newEnv(t, cfg)
	ev := e.finish(reactions.StatusSucceeded, reactions.Alarm{Condition: "RM1_Stopped"})
	e.drain()
	r := e.report(ID(ev.ID, "sink"))
	if r.Attempts != 1 || r.LastError == "" {
		t.Fatalf("report: %+v", ViewOf(r))
	}
	v := ViewOf(r)
	for _, leak := range []string{"hunter2", "t0ps3cret", "s1gning-k3y", "b34rer", "alice"} {
		for where, text := range map[string]string{"last error": r.LastError, "view URL": v.URL, "log": e.logs.String()} {
			if strings.Contains(text, leak) {
				t.Errorf("%s contains %q: %s", where, leak, text)
			}
		}
	}
	if want := "post to http://redacted@" + addr + "/hook?redacted"; !strings.HasPrefix(r.LastError, want) {
		t.Errorf("last error %q, want it to start with %q", r.LastError, want)
	}
}

// Run sends a finished event's reports at once, not at the next interval.
func TestRunIsPrompt(t *testing.T) {
	snk := newSink(t)
	cfg := loadConfig(t, fmt.Sprintf("node: rm1\nnodes: {rm1: {}}\nreports: [{name: sink, url: %q}]\n", snk.URL()), nil)
	e := newEnv(t, cfg, WithClock(time.Now), WithInterval(time.Hour))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); e.O.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var want []string
	for i := 0; i < 3; i++ {
		ev := e.finish(reactions.StatusSucceeded, reactions.Alarm{Condition: "RM1_Stopped"})
		want = append(want, ID(ev.ID, "sink"))
		agenttest.Eventually(t, 5*time.Second, func() bool { return len(snk.Accepted()) >= i+1 }, "report %d not delivered by Run", i)
	}
	if diff := cmp.Diff(want, snk.Accepted()); diff != "" {
		t.Errorf("delivered by Run (-want +got):\n%s", diff)
	}
}

func TestList(t *testing.T) {
	snk := newSink(t)
	cfg := loadConfig(t, fmt.Sprintf("node: rm1\nnodes: {rm1: {}}\nreports: [{name: sink, url: %q}]\n", snk.URL()), nil)
	e := newEnv(t, cfg)
	e1 := e.finish(reactions.StatusSucceeded, reactions.Alarm{Condition: "a"})
	e.drain()
	e2 := e.finish(reactions.StatusSucceeded, reactions.Alarm{Condition: "b"})
	// One report a page: the cursor leads from the newest to the oldest.
	var ids []string
	for cursor, pages := "", 0; pages == 0 || cursor != ""; pages++ {
		if pages > 3 {
			t.Fatal("the cursor never ends")
		}
		page, next, err := e.O.Page("", 1, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page {
			ids = append(ids, v.ID+" "+v.State)
		}
		cursor = next
	}
	if diff := cmp.Diff([]string{ID(e2.ID, "sink") + " pending", ID(e1.ID, "sink") + " delivered"}, ids); diff != "" {
		t.Errorf("list, newest first (-want +got):\n%s", diff)
	}
	pending, next, err := e.O.Page(journal.ReportPending, 10, "")
	if err != nil || len(pending) != 1 || pending[0].NextAttempt.IsZero() || next != "" {
		t.Errorf("pending list: %+v, next %q, %v", pending, next, err)
	}
	if _, _, err := e.O.Page("bogus", 10, ""); !errors.Is(err, reactions.ErrInvalid) {
		t.Errorf("bogus state: %v, want ErrInvalid", err)
	}
}

// A redirect is not followed (a redirected POST would arrive as a GET
// without the report) and is not retried.
func TestRedirectRejected(t *testing.T) {
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			t.Errorf("redirect followed: %s %s", r.Method, r.URL)
		}
		http.Redirect(w, r, "/moved", http.StatusFound)
	}))
	defer recv.Close()
	cfg := loadConfig(t, fmt.Sprintf("node: rm1\nnodes: {rm1: {}}\nreports: [{name: sink, url: %q}]\n", recv.URL), nil)
	e := newEnv(t, cfg)
	ev := e.finish(reactions.StatusSucceeded, reactions.Alarm{Condition: "RM1_Stopped"})
	e.drain()
	r := e.report(ID(ev.ID, "sink"))
	if r.State != journal.ReportRejected || r.LastStatus != http.StatusFound || !strings.Contains(r.LastError, "redirects are not followed") {
		t.Errorf("redirected report: %+v", ViewOf(r))
	}
}
