package agent

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/reconcile"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip/fake"
)

const monToken = "monitoring-test-token-0123456789"

// monConfig is one node's configuration for a pair rm1/rm2 whose agents
// listen on the given addresses; rm-vip is on the fake backend, owned by
// rm1.
func monConfig(t *testing.T, node string, addrs map[string]string, autoFix bool, initial string) *config.Config {
	t.Helper()
	c := config.Defaults()
	c.Node = node
	c.Listen = "127.0.0.1:0"
	c.DataDir = t.TempDir()
	c.Nodes = map[string]config.Node{}
	for i, n := range []string{"rm1", "rm2"} {
		if _, ok := addrs[n]; !ok {
			continue
		}
		c.Nodes[n] = config.Node{URL: "http://" + addrs[n], Token: config.NewSecret(monToken), MemberID: i + 1}
	}
	c.Auth.Tokens = []config.Token{{Name: "peer", Role: config.RoleAdmin, Token: config.NewSecret(monToken)}}
	c.VIPs = map[string]config.VIP{"rm-vip": {
		Address: "192.0.2.100/24", Interface: "eth0", Backend: "fake", Owner: "rm1", AutoFix: &autoFix,
		Options: map[string]any{"initial": initial, "persist": false},
	}}
	c.Reactions = []config.Reaction{{
		Name: "rm1-down", Match: config.Match{Condition: config.StringList{"RM1_Down"}},
		Steps: []config.Step{{Disable: "rm-vip", On: "rm1"}},
	}}
	c.Log.Level = "warn"
	if err := c.Validate(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	return &c
}

// monAgent is an agent.Main served by an httptest server on a listener
// chosen before its configuration was written.
type monAgent struct {
	*Main
	url string
}

func (a *monAgent) fake(t *testing.T) *fake.Backend {
	t.Helper()
	b, ok := a.backends["rm-vip"].(*fake.Backend)
	if !ok {
		t.Fatalf("rm-vip backend is %T", a.backends["rm-vip"])
	}
	return b
}

// monListen reserves a loopback address for an agent.
func monListen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// monStart opens node's agent and serves it on ln.
func monStart(t *testing.T, node string, ln net.Listener, addrs map[string]string, autoFix, on bool) *monAgent {
	t.Helper()
	initial := map[bool]string{true: "present", false: "absent"}
	log := zerolog.Nop()
	m, err := Open(monConfig(t, node, addrs, autoFix, initial[on]), Options{Logger: &log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(m.Handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("close %s: %v", node, err)
		}
	})
	return &monAgent{Main: m, url: srv.URL}
}

// monPair starts rm1 and rm2 with the VIP initially present or not on each.
func monPair(t *testing.T, autoFix, on1, on2 bool) (rm1, rm2 *monAgent) {
	t.Helper()
	ln1, ln2 := monListen(t), monListen(t)
	addrs := map[string]string{"rm1": ln1.Addr().String(), "rm2": ln2.Addr().String()}
	return monStart(t, "rm1", ln1, addrs, autoFix, on1), monStart(t, "rm2", ln2, addrs, autoFix, on2)
}

// monEvents lists the journaled events of a source.
func monEvents(t *testing.T, m *Main, src reactions.Source) []*reactions.Event {
	t.Helper()
	evs, err := m.Journal.List(journal.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []*reactions.Event
	for _, ev := range evs {
		if ev.Source == src {
			out = append(out, ev)
		}
	}
	return out
}

func monRun(t *testing.T, r *reconcile.Reconciler) reconcile.State {
	t.Helper()
	sts, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 {
		t.Fatalf("%d states, want 1", len(sts))
	}
	return sts[0]
}

// monSettled waits until no agent of the pair has a move of rm-vip in
// flight: a peer's step is answered before its result is committed, so a
// journal knows the move a moment after the call that asked for it has
// returned, and a reconcile pass meanwhile only says moving.
func monSettled(t *testing.T, agents ...*monAgent) {
	t.Helper()
	agenttest.Eventually(t, 10*time.Second, func() bool {
		for _, a := range agents {
			if a.Engine.Moves("rm-vip").Busy {
				return false
			}
		}
		return true
	}, "a move of rm-vip still in flight")
}

func monWait(t *testing.T, m *Main, id string) *reactions.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := m.Engine.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Status.Final() {
		t.Fatalf("event %s still %s", id, ev.Status)
	}
	return ev
}

// scrapeLines returns the exposition lines of /metrics that start with
// one of the prefixes.
func scrapeLines(t *testing.T, url string, prefixes ...string) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+monToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s: %s", resp.Status, body)
	}
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return out
}

// Two agents, the VIP on both, on neither, on the wrong node: the owner's
// agent journals the drift (once), and repairs it only with auto_fix.
func TestReconcileTwoAgents(t *testing.T) {
	tests := []struct {
		name     string
		on1, on2 bool
		autoFix  bool
		wantKind reconcile.Kind
		// wantStatus is the drift event's final status.
		wantStatus       reactions.Status
		wantCalls1       []string
		wantCalls2       []string
		wantOn1, wantOn2 bool
	}{
		{name: "both, reported", on1: true, on2: true, wantKind: reconcile.KindBoth, wantStatus: reactions.StatusUnmatched, wantOn1: true, wantOn2: true},
		{name: "both, fixed", on1: true, on2: true, autoFix: true, wantKind: reconcile.KindBoth, wantStatus: reactions.StatusSucceeded, wantCalls2: []string{"disable"}, wantOn1: true},
		{name: "neither, reported", wantKind: reconcile.KindNone, wantStatus: reactions.StatusUnmatched},
		{name: "neither, fixed", autoFix: true, wantKind: reconcile.KindNone, wantStatus: reactions.StatusSucceeded, wantCalls1: []string{"enable"}, wantOn1: true},
		{name: "wrong node, reported", on2: true, wantKind: reconcile.KindWrong, wantStatus: reactions.StatusUnmatched, wantOn2: true},
		{name: "wrong node, fixed", on2: true, autoFix: true, wantKind: reconcile.KindWrong, wantStatus: reactions.StatusSucceeded, wantCalls1: []string{"enable"}, wantCalls2: []string{"disable"}, wantOn1: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rm1, rm2 := monPair(t, tt.autoFix, tt.on1, tt.on2)
			r1 := rm1.newReconciler()
			r2 := rm2.newReconciler()
			monRun(t, r1)
			monRun(t, r2)
			// rm2 confirms the drift too, but leaves it to the owner.
			if st2 := monRun(t, r2); st2.Kind != tt.wantKind || st2.EventID != "" || st2.Reporter != "rm1" {
				t.Errorf("rm2 saw %s, reporter %s, and journaled %q; want %s seen, reported by rm1 only", st2.Kind, st2.Reporter, st2.EventID, tt.wantKind)
			}
			st := monRun(t, r1) // confirmed: journaled
			if st.Kind != tt.wantKind || st.EventID == "" {
				t.Fatalf("rm1: %+v; want %s journaled", st, tt.wantKind)
			}
			ev := monWait(t, rm1.Main, st.EventID)
			if ev.Status != tt.wantStatus {
				t.Errorf("drift event %s: %s (%s), want %s", ev.ID, ev.Status, ev.Result.Error, tt.wantStatus)
			}
			if ev.Source != reactions.SourceReconcile || ev.Alarm.Condition != reconcile.Condition || ev.Alarm.Labels["kind"] != string(tt.wantKind) {
				t.Errorf("drift event: source %s condition %s labels %v", ev.Source, ev.Alarm.Condition, ev.Alarm.Labels)
			}
			if diff := cmp.Diff(tt.wantCalls1, rm1.fake(t).Calls()); diff != "" {
				t.Errorf("rm1 backend calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCalls2, rm2.fake(t).Calls()); diff != "" {
				t.Errorf("rm2 backend calls (-want +got):\n%s", diff)
			}
			for _, c := range []struct {
				a    *monAgent
				want bool
			}{{rm1, tt.wantOn1}, {rm2, tt.wantOn2}} {
				got, err := c.a.fake(t).Observe(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if got.Present != c.want {
					t.Errorf("%s: vip present %v, want %v", c.a.Config.Node, got.Present, c.want)
				}
			}
			// Later passes journal nothing more: the drift is either fixed
			// or already reported.
			monRun(t, r1)
			monRun(t, r1)
			monRun(t, r2)
			if n := len(monEvents(t, rm1.Main, reactions.SourceReconcile)); n != 1 {
				t.Errorf("rm1 journaled %d drift events, want 1", n)
			}
			if n := len(monEvents(t, rm2.Main, reactions.SourceReconcile)); n != 0 {
				t.Errorf("rm2 journaled %d drift events, want 0", n)
			}
			lines := scrapeLines(t, rm1.url, "vipagent_reconcile_drift_total", "vipagent_alarms_total")
			want := []string{
				`vipagent_alarms_total{source="reconcile",status="` + string(tt.wantStatus) + `"} 1`,
				`vipagent_reconcile_drift_total{kind="` + string(tt.wantKind) + `"} 1`,
			}
			if diff := cmp.Diff(want, lines); diff != "" {
				t.Errorf("rm1 metrics (-want +got):\n%s", diff)
			}
		})
	}
}

// A peer that does not answer leaves the state unknown: nothing journaled,
// nothing repaired.
func TestReconcilePeerDown(t *testing.T) {
	ln1, gone := monListen(t), monListen(t)
	addrs := map[string]string{"rm1": ln1.Addr().String(), "rm2": gone.Addr().String()}
	gone.Close() // rm2's agent is not running: connections are refused
	rm1 := monStart(t, "rm1", ln1, addrs, true, false)
	r1 := rm1.newReconciler()
	monRun(t, r1)
	st := monRun(t, r1)
	if st.Kind != reconcile.KindUnknown || st.EventID != "" || len(st.Unknown) != 1 {
		t.Errorf("state %+v, want unknown (rm2) and nothing journaled", st)
	}
	if calls := rm1.fake(t).Calls(); len(calls) != 0 {
		t.Errorf("rm1 backend calls %v, want none", calls)
	}
}

// Alertmanager through the agent's own API (bearer token, route mounted by
// openMonitoring), then the counters on /metrics.
func TestAlertmanagerThroughAgent(t *testing.T) {
	rm1, _ := monPair(t, false, true, false)
	body := `{"version":"4","groupKey":"{}:{alertname=\"RMProcessDown\"}","truncatedAlerts":0,"status":"firing",
"receiver":"vipagent","groupLabels":{"alertname":"RMProcessDown"},"commonLabels":{"alertname":"RMProcessDown"},
"commonAnnotations":{},"externalURL":"http://alertmanager.example:9093","alerts":[
{"status":"firing","labels":{"alertname":"RMProcessDown","condition":"RM1_Down","instance":"rm1:9100"},
"annotations":{"summary":"RM1 down"},"startsAt":"2024-05-02T10:15:30Z","endsAt":"0001-01-01T00:00:00Z",
"generatorURL":"http://prometheus.example:9090/graph","fingerprint":"3f1c9a2b7d4e5f60"}]}`
	post := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, rm1.url+"/v1/alertmanager", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := post(""); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", code)
	}
	for range 2 {
		if code, resp := post(monToken); code != http.StatusOK {
			t.Fatalf("POST /v1/alertmanager: %d %s", code, resp)
		}
	}
	evs := monEvents(t, rm1.Main, reactions.SourceAlertmanager)
	if len(evs) != 1 {
		t.Fatalf("%d alertmanager events journaled, want 1", len(evs))
	}
	if ev := monWait(t, rm1.Main, evs[0].ID); ev.Status != reactions.StatusSucceeded || ev.Result.Reaction != "rm1-down" {
		t.Errorf("event %s: %s by %q", ev.ID, ev.Status, ev.Result.Reaction)
	}
	if diff := cmp.Diff([]string{"disable"}, rm1.fake(t).Calls()); diff != "" {
		t.Errorf("backend calls (-want +got):\n%s", diff)
	}
	lines := scrapeLines(t, rm1.url, "vipagent_alarms_total", "vipagent_steps_total", "vipagent_step_duration_seconds_count", "vipagent_journal_events")
	want := []string{
		`vipagent_alarms_total{source="alertmanager",status="succeeded"} 1`,
		`vipagent_journal_events 1`,
		`vipagent_step_duration_seconds_count{backend="fake"} 1`,
		`vipagent_steps_total{backend="fake",outcome="changed"} 1`,
		// Failure counters exist from the start, so that alert rules see
		// the first failure as an increase.
		`vipagent_steps_total{backend="fake",outcome="failed"} 0`,
		`vipagent_steps_total{backend="fake",outcome="timeout"} 0`,
		`vipagent_steps_total{backend="peer",outcome="failed"} 0`,
		`vipagent_steps_total{backend="peer",outcome="timeout"} 0`,
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

// Serve starts the scheduler: the reconcile job finds the VIP on no node
// and, with auto_fix, puts it on its owner; Close stops the scheduler.
func TestScheduledReconcile(t *testing.T) {
	c := monConfig(t, "rm1", map[string]string{"rm1": "127.0.0.1:1"}, true, "absent")
	c.Schedules.Reconcile = "@every 1s"
	c.Schedules.Prune = "@every 1s"
	log := zerolog.Nop()
	m, err := Open(c, Options{Logger: &log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	if err := m.Serve(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := &monAgent{Main: m}
	agenttest.Eventually(t, 15*time.Second, func() bool {
		st, _ := a.fake(t).Observe(context.Background())
		return st.Present
	}, "the scheduled reconcile did not put the VIP on its owner")
	evs := monEvents(t, m, reactions.SourceReconcile)
	if len(evs) != 1 || evs[0].Alarm.Labels["kind"] != "none" {
		t.Errorf("drift events %v, want one of kind none", evs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// Bad schedules stop Open with the job named.
func TestBadSchedule(t *testing.T) {
	c := monConfig(t, "rm1", map[string]string{"rm1": "127.0.0.1:1"}, false, "present")
	c.Schedules.Reconcile = "every thirty seconds"
	log := zerolog.Nop()
	m, err := Open(c, Options{Logger: &log})
	if err == nil {
		m.Close(context.Background())
		t.Fatal("Open accepted a bad schedule")
	}
	if !strings.Contains(err.Error(), "schedules.reconcile") {
		t.Errorf("error %q does not name schedules.reconcile", err)
	}
}
