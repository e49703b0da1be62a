package cli

import (
	"fmt"
	"github.com/vipagent/vipagent/agent/api"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/identity"
)

// protocolAgent is an agent of the config it is given that proves itself,
// then serves everything else with serve. It records the requests' headers.
type protocolAgent struct {
	srv     *httptest.Server
	cfg     string
	mu      sync.Mutex
	headers []http.Header
}

func newProtocolAgent(t *testing.T, auth string, serve http.HandlerFunc) *protocolAgent {
	a := &protocolAgent{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == identity.Path {
			answerIdentity(t, w, r, a.cfg)
			return
		}
		a.mu.Lock()
		a.headers = append(a.headers, r.Header.Clone())
		a.mu.Unlock()
		serve(w, r)
	}))
	t.Cleanup(a.srv.CloseClientConnections)
	t.Cleanup(a.srv.Close)
	dir := t.TempDir()
	a.cfg = filepath.Join(dir, "vipagent.yaml")
	body := fmt.Sprintf(`
node: rm1
listen: %s
data_dir: %s
nodes:
  rm1: {member_id: 1, host: rm1, rm_application: RM_1}
vips:
  rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake}
reactions:
  - name: stop
    match: {condition: RM1_Stopped}
    steps: [{disable: rm-vip}]
%s`, strings.TrimPrefix(a.srv.URL, "http://"), filepath.Join(dir, "data"), auth)
	if err := os.WriteFile(a.cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return a
}

const tokenAuth = `auth:
  tokens:
    - {name: trig, token: trigger-token-0123456789, role: trigger}
`

// A command that gives up says what it knows: the agent's 103 notice names
// the event it accepted (exit 5, "accepted as EVENT, outcome unknown"),
// and without one the request was not accepted (exit 4, "not accepted"),
// since it carried a deadline the agent will not start it after.
func TestGivingUpSaysWhetherTheAgentAccepted(t *testing.T) {
	for _, tt := range []struct {
		name   string
		notice bool
		code   int
		prefix string
	}{
		{"103 then silence", true, ExitUnknown, "accepted as rm1-e42, outcome unknown"},
		{"silence", false, ExitNoAgent, "not accepted: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			a := newProtocolAgent(t, tokenAuth, func(w http.ResponseWriter, r *http.Request) {
				if tt.notice {
					w.Header().Set(api.HeaderEvent, "rm1-e42")
					w.WriteHeader(http.StatusEarlyHints)
				}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			})
			// Before the server's cleanup, which waits for the handler.
			t.Cleanup(func() { close(release) })
			start := time.Now()
			code, out, errOut := runCLI(t, "fire", "--config", a.cfg, "--condition", "RM1_Stopped", "--wait", "1s")
			took := time.Since(start)
			if code != tt.code || !strings.Contains(errOut, "vipagent: "+tt.prefix) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, tt.code, tt.prefix, out, errOut)
			}
			if strings.Contains(out+errOut, "succeeded") {
				t.Errorf("says succeeded:\n%s%s", out, errOut)
			}
			if bound := 1*time.Second + answerMargin; took > bound+time.Second {
				t.Errorf("took %s, bound %s", took, bound)
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			if len(a.headers) != 1 {
				t.Fatalf("%d requests, want 1", len(a.headers))
			}
			d, err := time.Parse(time.RFC3339Nano, a.headers[0].Get(api.HeaderDeadline))
			if err != nil {
				t.Fatalf("%s: %v", api.HeaderDeadline, err)
			}
			// The agent is told to give up before the command does.
			if gap := start.Add(1*time.Second + answerMargin).Sub(d); gap < deadlineSlack-100*time.Millisecond || gap > deadlineSlack+time.Second {
				t.Errorf("deadline %s is %s before the command's bound, want about %s", d, gap, deadlineSlack)
			}
		})
	}
}

// Retry-After on 429 and 503 is honoured while the retry can finish
// before the command's deadline; beyond it, the answer stands at once.
func TestRetryAfterWithinTheDeadline(t *testing.T) {
	result := `{"event_id":"rm1-e1","node":"rm1","status":"succeeded"}`
	var mu sync.Mutex
	calls := 0
	a := newProtocolAgent(t, tokenAuth, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":"too many","status":429}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, result)
	})
	start := time.Now()
	code, out, errOut := runCLI(t, "fire", "--config", a.cfg, "--condition", "RM1_Stopped", "--wait", "5s")
	if code != ExitOK || calls != 2 || time.Since(start) < time.Second {
		t.Errorf("429 Retry-After 1: exit %d after %d calls in %s:\n%s%s", code, calls, time.Since(start), out, errOut)
	}

	calls = 0
	b := newProtocolAgent(t, tokenAuth, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		w.Header().Set("Retry-After", "30")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":"shutting down","status":503}`)
	})
	start = time.Now()
	code, out, errOut = runCLI(t, "fire", "--config", b.cfg, "--condition", "RM1_Stopped", "--wait", "1s")
	if code == ExitOK || calls != 1 || time.Since(start) > 2*time.Second {
		t.Errorf("503 Retry-After past the deadline: exit %d after %d calls in %s:\n%s%s", code, calls, time.Since(start), out, errOut)
	}
}

func TestRetryDelay(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	until := now.Add(10 * time.Second)
	h := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	for _, tt := range []struct {
		code int
		h    http.Header
		want time.Duration
		ok   bool
	}{
		{429, h("2"), 2 * time.Second, true},
		{503, h("0"), time.Second, true},
		{503, h(now.Add(3 * time.Second).Format(http.TimeFormat)), 3 * time.Second, true},
		{429, h("9"), 0, false}, // would end after the deadline
		{429, h("-1"), 0, false},
		{429, h("soon"), 0, false},
		{429, http.Header{}, 0, false},
		{500, h("1"), 0, false},
	} {
		d, ok := retryDelay(tt.code, tt.h, now, until)
		if d != tt.want || ok != tt.ok {
			t.Errorf("retryDelay(%d, %v) = %s, %v; want %s, %v", tt.code, tt.h, d, ok, tt.want, tt.ok)
		}
	}
}

// The agent's 103 notice is informational: an in-process run, which
// serves the agent's handler directly, answers with what follows it.
func TestInProcessIgnoresTheNotice(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(api.HeaderEvent, "rm1-e1")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprint(w, `{}`)
	})
	resp, err := (&http.Client{Transport: handlerTransport{h}}).Get("http://in-process/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("status %d, want %d: the 103 was taken for the answer", resp.StatusCode, http.StatusTeapot)
	}
}
