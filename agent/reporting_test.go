package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/cli"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/report"
)

// recorder is a report receiver answering what the test sets.
type recorder struct {
	mu     sync.Mutex
	status int
	got    []string // report IDs answered 2xx
	bodies map[string][]byte
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.status/100 == 2 {
		rc.got = append(rc.got, r.Header.Get(report.HeaderReportID))
		rc.bodies[r.Header.Get(report.HeaderReportID)] = b
	}
	w.WriteHeader(rc.status)
	io.WriteString(w, "answer from the test receiver")
}

func (rc *recorder) set(status int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.status = status
}

// wait returns the IDs received once there are n; the test fails when
// fewer arrive within 5 s.
func (rc *recorder) wait(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	agenttest.Eventually(t, 5*time.Second, func() bool {
		rc.mu.Lock()
		got = append([]string(nil), rc.got...)
		rc.mu.Unlock()
		return len(got) >= n
	}, func() string { return fmt.Sprintf("%d reports received, want %d: %v", len(got), n, got) })
	return got
}

// The agent as built by Open reports a finished alarm to its targets and
// to the alarm's callback_url at once, lists and retries reports through
// the API and the CLI, and refuses callbacks to hosts not allowed.
func TestReportingWired(t *testing.T) {
	sink := &recorder{status: http.StatusUnprocessableEntity, bodies: map[string][]byte{}}
	cb := &recorder{status: http.StatusOK, bodies: map[string][]byte{}}
	sinkSrv, cbSrv := httptest.NewServer(sink), httptest.NewServer(cb)
	defer sinkSrv.Close()
	defer cbSrv.Close()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "vipagent.yaml")
	yaml := fmt.Sprintf(`
node: rm1
listen: 127.0.0.1:0
data_dir: %s
nodes: {rm1: {}}
vips:
  rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake, owner: rm1, options: {initial: present}}
reactions:
  - name: rm1-stopped
    match: {condition: RM1_Stopped}
    steps: [{disable: rm-vip}]
reports:
  - name: sink
    url: %s/hook
callback_hosts: [%q]
`, filepath.Join(dir, "data"), sinkSrv.URL, strings.TrimPrefix(cbSrv.URL, "http://"))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(string) string { return "" }
	cfg, err := config.Load(cfgPath, getenv)
	if err != nil {
		t.Fatal(err)
	}
	log := zerolog.Nop()
	m, err := agent.Open(cfg, agent.Options{Logger: &log})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := m.Serve(ctx); err != nil {
		m.Close(context.Background())
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	base := "http://" + m.Addr()

	post := func(path string, body any) (int, []byte) {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(base+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}

	code, body := post("/v1/alarms?wait=10s", map[string]any{"condition": "RM1_Stopped", "id": "scs-1", "callback_url": cbSrv.URL + "/cb"})
	if code != http.StatusOK {
		t.Fatalf("alarm: %d %s", code, body)
	}
	var res struct {
		EventID string `json:"event_id"`
	}
	json.Unmarshal(body, &res)
	cbID, sinkID := report.ID(res.EventID, report.CallbackTarget), report.ID(res.EventID, "sink")
	// The delivery interval is 5 s: arriving sooner shows Finish woke it.
	start := time.Now()
	if diff := cmp.Diff([]string{cbID}, cb.wait(t, 1)); diff != "" {
		t.Fatalf("callback deliveries (-want +got):\n%s", diff)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("callback took %s", d)
	}
	var p report.Payload
	cb.mu.Lock()
	json.Unmarshal(cb.bodies[cbID], &p)
	cb.mu.Unlock()
	if p.Event.ID != res.EventID || p.Result == nil || len(p.Result.Steps) != 1 || p.Result.Steps[0].Before == nil {
		t.Errorf("callback payload: %+v", p)
	}

	code, body = post("/v1/alarms", map[string]any{"condition": "RM1_Stopped", "callback_url": "http://198.51.100.7:8080/cb"})
	if code != http.StatusBadRequest || !strings.Contains(string(body), "callback_hosts") {
		t.Errorf("callback to a host not allowed: %d %s", code, body)
	}

	// The sink refused with 422: the CLI lists the report as rejected.
	var out bytes.Buffer
	run := func(args ...string) error {
		out.Reset()
		return cli.Run(ctx, append(append([]string{"reports"}, args...), "--config", cfgPath, "--agent", base), getenv, strings.NewReader(""), &out, io.Discard)
	}
	agenttest.Eventually(t, 5*time.Second, func() bool {
		if err := run("list", "--state", "rejected"); err != nil {
			t.Fatalf("reports list: %v", err)
		}
		return strings.Contains(out.String(), sinkID)
	}, func() string { return "reports list --state rejected never listed " + sinkID + ":\n" + out.String() })
	if !strings.Contains(out.String(), sinkID) || !strings.Contains(out.String(), "HTTP 422: answer from the test receiver") {
		t.Fatalf("reports list --state rejected:\n%s", out.String())
	}

	sink.set(http.StatusAccepted)
	if err := run("retry", sinkID); err != nil {
		t.Fatalf("reports retry: %v", err)
	}
	if diff := cmp.Diff([]string{sinkID}, sink.wait(t, 1)); diff != "" {
		t.Errorf("sink deliveries after retry (-want +got):\n%s", diff)
	}

	// Newest first: the callback was produced after the sink's report.
	want := []string{cbID + " delivered", sinkID + " delivered"}
	var states []string
	// The receiver has the report a moment before the agent records it.
	agenttest.Eventually(t, 5*time.Second, func() bool {
		if err := run("list", "--json"); err != nil {
			t.Fatal(err)
		}
		var list struct {
			Reports []report.View `json:"reports"`
		}
		if err := json.Unmarshal(out.Bytes(), &list); err != nil {
			t.Fatalf("list --json: %v\n%s", err, out.String())
		}
		states = nil
		for _, v := range list.Reports {
			states = append(states, v.ID+" "+v.State)
		}
		return cmp.Equal(want, states)
	}, func() string { return fmt.Sprintf("reports (-want +got):\n%s", cmp.Diff(want, states)) })

	if err := run("retry", sinkID); err == nil || cli.ExitCode(err) != cli.ExitFailed || !strings.Contains(err.Error(), "409") {
		t.Errorf("retry of a delivered report: %v", err)
	}
	if err := run("list", "--state", "bogus"); err == nil || cli.ExitCode(err) != cli.ExitUsage {
		t.Errorf("list --state bogus: %v", err)
	}
	if err := run("frobnicate"); cli.ExitCode(err) != cli.ExitUsage {
		t.Errorf("unknown subcommand: %v", err)
	}
}
