package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/agenttest"
	wire "github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/httpapi"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/sign"
	"github.com/vipagent/vipagent/reactions"
)

const baseYAML = `
node: rm1
nodes:
  rm1: {member_id: 1}
vips:
  rm-vip:
    address: 192.0.2.100/24
    interface: eth0
    backend: fake
    options: {initial: present}
  slow-vip:
    address: 198.51.100.7/24
    interface: eth1
    backend: fake
    options: {delay: 400ms}
reactions:
  - name: rm1-stopped
    match: {condition: RM1_Stopped}
    steps: [{disable: rm-vip}]
  - name: rm1-started
    match: {condition: RM1_Started}
    steps: [{enable: rm-vip}]
  - name: slow
    match: {condition: Slow}
    steps: [{enable: slow-vip}]
  - name: forced
    match: {condition: Forced_Up}
    steps: [{enable: rm-vip, force: true}]
limits:
  max_body_bytes: 2048
  rate_per_minute: 0
`

type api struct {
	t     testing.TB
	srv   *httptest.Server
	m     *agent.Main
	tok   string
	close func()
}

func newAPI(t testing.TB, extraYAML string, getenv func(string) string) *api {
	t.Helper()
	return newAPIAt(t, t.TempDir(), extraYAML, getenv)
}

// newAPIAt is newAPI with its journal in dataDir, so that a test can
// restart the agent on the same journal (close the first one before).
func newAPIAt(t testing.TB, dataDir, extraYAML string, getenv func(string) string) *api {
	t.Helper()
	y := baseYAML
	if strings.HasPrefix(extraYAML, "  ") {
		// Indented leading lines: more limits; the rest is more YAML.
		limits, rest := extraYAML, ""
		if i := strings.Index(extraYAML, "\n\n"); i >= 0 {
			limits, rest = extraYAML[:i+1], extraYAML[i+1:]
		}
		y = strings.Replace(y, "  rate_per_minute: 0\n", limits, 1)
		extraYAML = rest
	}
	c, err := config.Parse([]byte(y + extraYAML))
	if err != nil {
		t.Fatal(err)
	}
	c.DataDir = dataDir
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if err := c.Validate(getenv); err != nil {
		t.Fatal(err)
	}
	log := zerolog.Nop()
	m, err := agent.Open(c, agent.Options{Logger: &log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler)
	closeOnce := sync.OnceFunc(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		m.Close(ctx)
	})
	t.Cleanup(closeOnce)
	return &api{t: t, srv: srv, m: m, close: closeOnce}
}

func (a *api) do(method, path, contentType string, body []byte, hdr ...string) (int, http.Header, []byte) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if a.tok != "" {
		req.Header.Set("Authorization", "Bearer "+a.tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

func (a *api) postJSON(path string, v any) (int, http.Header, []byte) {
	a.t.Helper()
	b, _ := json.Marshal(v)
	return a.do(http.MethodPost, path, "application/json", b)
}

func (a *api) events() []reactions.Event {
	a.t.Helper()
	evs, err := a.m.Journal.List(journal.Filter{Limit: 1000})
	if err != nil {
		a.t.Fatal(err)
	}
	out := make([]reactions.Event, len(evs))
	for i, e := range evs {
		out[i] = *e
	}
	return out
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPostAlarmWaitsForResult(t *testing.T) {
	a := newAPI(t, "", nil)
	code, _, body := a.postJSON("/v1/alarms", map[string]any{"id": "k1", "condition": "RM1_Stopped", "host": "rm1", "labels": map[string]string{"site": "par"}})
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	// The documented result fields are all there.
	raw := decode[map[string]any](t, body)
	for _, k := range []string{"event_id", "status", "reaction", "duplicate", "started_at", "finished_at", "steps"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("result lacks %q: %s", k, body)
		}
	}
	step := raw["steps"].([]any)[0].(map[string]any)
	for _, k := range []string{"action", "vip", "node", "outcome", "before", "after", "duration_ms"} {
		if _, ok := step[k]; !ok {
			t.Errorf("step lacks %q: %v", k, step)
		}
	}
	res := decode[reactions.Result](t, body)
	if res.Status != reactions.StatusSucceeded || res.Duplicate || res.Steps[0].Outcome != reactions.OutcomeChanged {
		t.Errorf("result %+v", res)
	}
	// The same key again: answered from the journal, nothing runs.
	code, _, body = a.postJSON("/v1/alarms", map[string]any{"id": "k1", "condition": "RM1_Stopped", "host": "rm1", "labels": map[string]string{"site": "par"}, "text": "retried"})
	dup := decode[reactions.Result](t, body)
	if code != http.StatusOK || !dup.Duplicate || dup.EventID != res.EventID {
		t.Errorf("repeat: %d %+v", code, dup)
	}
	if n := len(a.events()); n != 1 {
		t.Errorf("journal holds %d events, want 1", n)
	}
	// The stored event carries the alarm.
	code, _, body = a.do(http.MethodGet, "/v1/events/"+res.EventID, "", nil)
	ev := decode[reactions.Event](t, body)
	if code != 200 || ev.Alarm.Labels["site"] != "par" || ev.Result == nil || ev.Result.Status != reactions.StatusSucceeded {
		t.Errorf("GET event: %d %+v", code, ev)
	}
}

func TestPostAlarmAcceptedWhenSlow(t *testing.T) {
	a := newAPI(t, "", nil)
	code, hdr, body := a.postJSON("/v1/alarms?wait=50ms", map[string]any{"condition": "Slow"})
	if code != http.StatusAccepted {
		t.Fatalf("status %d: %s", code, body)
	}
	loc := hdr.Get("Location")
	acc := decode[map[string]any](t, body)
	if !strings.HasPrefix(loc, "/v1/events/") || acc["location"] != loc {
		t.Fatalf("Location %q body %s", loc, body)
	}
	agenttest.Eventually(t, 5*time.Second, func() bool {
		_, _, body = a.do(http.MethodGet, loc, "", nil)
		return decode[reactions.Event](t, body).Status == reactions.StatusSucceeded
	}, func() string { return "event never succeeded: " + string(body) })
}

func TestResultStatusCodes(t *testing.T) {
	a := newAPI(t, "", nil)
	code, _, body := a.postJSON("/v1/alarms", map[string]any{"condition": "Nobody_Listens"})
	if code != http.StatusUnprocessableEntity || decode[reactions.Result](t, body).Status != reactions.StatusUnmatched {
		t.Errorf("unmatched: %d %s", code, body)
	}
	if n := len(a.events()); n != 1 {
		t.Errorf("unmatched alarm not journaled")
	}
}

// Every bad request gets a clear 4xx JSON error and stores nothing.
func TestBadInput(t *testing.T) {
	a := newAPI(t, "", nil)
	big := `{"condition":"RM1_Stopped","text":"` + strings.Repeat("x", 4000) + `"}`
	tests := []struct {
		name, method, path, ctype, body string
		want                            int
		msg                             string
	}{
		{"malformed json", "POST", "/v1/alarms", "application/json", `{"condition":`, 400, "malformed JSON"},
		{"unknown field", "POST", "/v1/alarms", "application/json", `{"condition":"RM1_Stopped","colour":"red"}`, 400, `unknown field "colour"`},
		{"empty body", "POST", "/v1/alarms", "application/json", ``, 400, "empty body"},
		{"two objects", "POST", "/v1/alarms", "application/json", `{"condition":"a"}{"condition":"b"}`, 400, "more than one value"},
		{"wrong content type", "POST", "/v1/alarms", "text/plain", `{"condition":"RM1_Stopped"}`, 415, "Content-Type must be application/json"},
		{"oversized body", "POST", "/v1/alarms", "application/json", big, 413, "body larger than 2048 bytes"},
		{"no condition", "POST", "/v1/alarms", "application/json", `{"host":"rm1"}`, 400, "needs condition"},
		{"event id without application", "POST", "/v1/alarms", "application/json", `{"event_id":"00-04504"}`, 400, "needs condition"},
		{"newline in condition", "POST", "/v1/alarms", "application/json", `{"condition":"a\nb"}`, 400, "control characters"},
		{"NUL in host", "POST", "/v1/alarms", "application/json", `{"condition":"a","host":"x\u0000"}`, 400, "control characters"},
		{"bad label name", "POST", "/v1/alarms", "application/json", `{"condition":"a","labels":{"a b":"c"}}`, 400, "not a label name"},
		{"bad wait", "POST", "/v1/alarms?wait=forever", "application/json", `{"condition":"a"}`, 400, "wait"},
		{"callback host not allowed", "POST", "/v1/alarms", "application/json", `{"condition":"a","callback_url":"http://198.51.100.9/x"}`, 400, "not in callback_hosts"},
		{"unknown vip enable", "POST", "/v1/vips/nope/enable", "application/json", `{}`, 400, `unknown vip "nope"`},
		{"unknown vip action", "POST", "/v1/vips/rm-vip/reboot", "application/json", `{}`, 404, "no such endpoint"},
		{"force on disable", "POST", "/v1/vips/rm-vip/disable", "application/json", `{"force":true}`, 400, "force: only for enable"},
		{"unknown field in vip action", "POST", "/v1/vips/rm-vip/enable", "application/json", `{"forse":true}`, 400, "unknown field"},
		{"unknown event", "GET", "/v1/events/nope", "", ``, 404, "not found"},
		{"replay unknown event", "POST", "/v1/events/nope/replay", "", ``, 404, "not found"},
		{"bad status filter", "GET", "/v1/events?status=weird", "", ``, 400, "unknown status"},
		{"bad limit", "GET", "/v1/events?limit=0", "", ``, 400, "limit"},
		{"unknown vip status", "GET", "/v1/vips/nope", "", ``, 404, "not found"},
		{"failover bad member", "POST", "/v1/failover", "application/json", `{"action":"enable","member_id":7}`, 400, "no node has member_id 7"},
		{"failover bad action", "POST", "/v1/failover", "application/json", `{"action":"toggle"}`, 400, "action: must be enable or disable"},
		{"wrong method", "DELETE", "/v1/alarms", "", ``, 405, "not allowed"},
		{"duplicate key", "POST", "/v1/alarms", "application/json", `{"condition":"A","condition":"RM1_Stopped"}`, 400, "condition: duplicate key"},
		{"case-variant duplicate key", "POST", "/v1/alarms", "application/json", `{"condition":"A","Condition":"RM1_Stopped"}`, 400, "Condition: duplicate key"},
		{"case-variant key", "POST", "/v1/alarms", "application/json", `{"Condition":"RM1_Stopped"}`, 400, "keys are case-sensitive"},
		{"duplicate label", "POST", "/v1/alarms", "application/json", `{"condition":"a","labels":{"x":"1","x":"2"}}`, 400, "labels.x: duplicate key"},
		{"duplicate key in vip action", "POST", "/v1/vips/rm-vip/enable", "application/json", `{"force":false,"force":true}`, 400, "force: duplicate key"},
		{"id over its limit", "POST", "/v1/alarms", "application/json", `{"condition":"a","id":"` + strings.Repeat("k", 201) + `"}`, 400, "id: longer than 200 characters"},
		{"reason with control characters", "POST", "/v1/vips/rm-vip/disable", "application/json", `{"reason":"a\u0007b"}`, 400, "reason: control characters"},
		{"unknown query parameter", "POST", "/v1/alarms?dry_run=1", "application/json", `{"condition":"a"}`, 400, "dry_run: unknown query parameter (this endpoint takes wait, source, deadline)"},
		{"query parameter twice", "POST", "/v1/alarms?wait=0&wait=10s", "application/json", `{"condition":"a"}`, 400, "wait: given 2 times"},
		{"query parameter on an endpoint without any", "GET", "/v1/vips?x=1", "", ``, 400, "x: unknown query parameter (this endpoint takes none)"},
		{"semicolon in query", "POST", "/v1/alarms?wait=0;source=cli", "application/json", `{"condition":"a"}`, 400, "';' is not a separator"},
		{"origin over its limit", "POST", "/v1/vips/rm-vip/disable", "application/json", `{"origin":"` + strings.Repeat("o", 257) + `"}`, 400, "origin: longer than 256 characters"},
		{"bad source", "POST", "/v1/alarms?source=peer", "application/json", `{"condition":"a"}`, 400, "source: must be http or cli"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, hdr, body := a.do(tt.method, tt.path, tt.ctype, []byte(tt.body))
			if code != tt.want {
				t.Errorf("status %d, want %d: %s", code, tt.want, body)
			}
			if ct := hdr.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			e := decode[map[string]any](t, body)
			if msg, _ := e["error"].(string); !strings.Contains(msg, tt.msg) {
				t.Errorf("error %q does not say %q", msg, tt.msg)
			}
		})
	}
	if evs := a.events(); len(evs) != 0 {
		t.Errorf("bad requests stored %d events", len(evs))
	}
}

// Errors name the field the caller sent: a manual action's reason becomes
// the event's text, but a long one is reported as reason.
func TestReasonIsNamedReason(t *testing.T) {
	a := newAPI(t, "", nil)
	a.m.Config.Limits.MaxBodyBytes = 16 << 10 // read per request
	code, _, body := a.postJSON("/v1/vips/rm-vip/disable", map[string]any{"reason": strings.Repeat("r", 4097)})
	if code != 400 || !strings.Contains(string(body), "reason: longer than 4096 characters") {
		t.Errorf("%d %s, want 400 naming reason", code, body)
	}
	if n := len(a.events()); n != 0 {
		t.Errorf("%d events journaled", n)
	}
}

func TestEventsListAndReplay(t *testing.T) {
	a := newAPI(t, "", nil)
	var ids []string
	for _, c := range []string{"RM1_Stopped", "RM1_Started", "Nobody", "RM1_Stopped"} {
		_, _, body := a.postJSON("/v1/alarms", map[string]any{"condition": c})
		ids = append(ids, decode[reactions.Result](t, body).EventID)
	}
	_, _, body := a.do("GET", "/v1/events?limit=3", "", nil)
	list := decode[struct{ Events []reactions.Event }](t, body)
	var got []string
	for _, e := range list.Events {
		got = append(got, e.ID)
	}
	if diff := cmp.Diff([]string{ids[3], ids[2], ids[1]}, got); diff != "" {
		t.Errorf("newest first with limit (-want +got):\n%s", diff)
	}
	_, _, body = a.do("GET", "/v1/events?status=unmatched", "", nil)
	list = decode[struct{ Events []reactions.Event }](t, body)
	if len(list.Events) != 1 || list.Events[0].ID != ids[2] {
		t.Errorf("status filter: %+v", list.Events)
	}

	// Dry run: the plan and the observed state, nothing done.
	code, _, body := a.do("POST", "/v1/events/"+ids[1]+"/replay?dry_run=true", "", nil)
	dry := decode[reactions.Result](t, body)
	if code != 200 || !dry.DryRun || dry.Steps[0].Outcome != reactions.OutcomePlanned || dry.Steps[0].Before == nil || dry.Steps[0].Before.Present {
		t.Errorf("dry run: %d %s", code, body)
	}
	if n := len(a.events()); n != 4 {
		t.Errorf("dry run journaled something: %d events", n)
	}
	// A real replay is a new event linked to the original.
	code, _, body = a.do("POST", "/v1/events/"+ids[1]+"/replay", "", nil)
	rep := decode[reactions.Result](t, body)
	if code != 200 || rep.ReplayOf != ids[1] || rep.EventID == ids[1] || rep.Steps[0].Outcome != reactions.OutcomeChanged {
		t.Errorf("replay: %d %s", code, body)
	}
	ev, err := a.m.Journal.Get(rep.EventID)
	if err != nil || ev.Source != reactions.SourceReplay || ev.ReplayOf != ids[1] {
		t.Errorf("replay event %+v %v", ev, err)
	}
}

func TestVIPsAndManualActions(t *testing.T) {
	a := newAPI(t, "", nil)
	code, _, body := a.postJSON("/v1/vips/rm-vip/disable", map[string]any{"reason": "maintenance"})
	res := decode[reactions.Result](t, body)
	if code != 200 || res.Steps[0].Outcome != reactions.OutcomeChanged {
		t.Fatalf("manual disable: %d %s", code, body)
	}
	code, _, body = a.do("GET", "/v1/vips/rm-vip", "", nil)
	v := decode[wire.VIPView](t, body)
	if code != 200 || v.State == nil || v.State.Present || v.Backend != "fake" || v.LastAction == nil || v.LastAction.EventID != res.EventID {
		t.Errorf("vip view %d %s", code, body)
	}
	// Empty body is fine for manual actions.
	code, _, body = a.do("POST", "/v1/vips/rm-vip/enable", "", nil)
	if code != 200 || decode[reactions.Result](t, body).Steps[0].Outcome != reactions.OutcomeChanged {
		t.Errorf("manual enable: %d %s", code, body)
	}
	_, _, body = a.do("GET", "/v1/vips", "", nil)
	list := decode[struct{ VIPs []wire.VIPView }](t, body)
	if len(list.VIPs) != 2 || list.VIPs[0].Name != "rm-vip" || !list.VIPs[0].State.Present {
		t.Errorf("vip list %s", body)
	}
	ev, _ := a.m.Journal.Get(res.EventID)
	if ev.Source != reactions.SourceManual || ev.Alarm.Text != "maintenance" {
		t.Errorf("manual event %+v", ev)
	}
}

func TestRateLimit(t *testing.T) {
	a := newAPI(t, "  rate_per_minute: 5\n", nil)
	codes := map[int]int{}
	for range 8 {
		code, hdr, body := a.do("GET", "/v1/events", "", nil)
		codes[code]++
		if code == http.StatusTooManyRequests && (hdr.Get("Retry-After") == "" || !strings.Contains(string(body), "more than 5 requests a minute")) {
			t.Errorf("429 without Retry-After or message: %v %s", hdr, body)
		}
	}
	if codes[200] != 5 || codes[429] != 3 {
		t.Errorf("status counts %v, want 5x200 and 3x429", codes)
	}
	// Health checks are not rate limited.
	if code, _, _ := a.do("GET", "/healthz", "", nil); code != 200 {
		t.Errorf("healthz rate limited: %d", code)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	a := newAPI(t, "", nil)
	if code, _, body := a.do("GET", "/healthz", "", nil); code != 200 {
		t.Errorf("healthz %d %s", code, body)
	}
	if code, _, body := a.do("GET", "/readyz", "", nil); code != 200 || !strings.Contains(string(body), "ready") {
		t.Errorf("readyz %d %s", code, body)
	}
}

const authYAML = `
auth:
  tokens:
    - {name: scs, role: trigger, token: "trigger-token-0123456789"}
    - {name: grafana, role: read, token: "read-token-0123456789ab"}
    - {name: oncall, role: admin, token: "env:ADMIN_TOKEN"}
  webhook_secret: "webhook-secret-0123456789"
  max_skew: 2m
`

func TestSignedWebhooks(t *testing.T) {
	a := newAPI(t, authYAML, func(string) string { return "admin-token-0123456789a" })
	secret := []byte("webhook-secret-0123456789")
	body := []byte(`{"condition":"Nobody","id":"sig-1"}`)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	good := sign.Sign(secret, now, "POST", "/v1/alarms", body)
	send := func(ts, sig string, b []byte) (int, []byte) {
		code, _, resp := a.do("POST", "/v1/alarms", "application/json", b, httpapi.HeaderTimestamp, ts, httpapi.HeaderSignature, sig)
		return code, resp
	}
	stale := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
	tests := []struct {
		name    string
		ts, sig string
		body    []byte
		want    int
		msg     string
	}{
		{"bad signature", now, "sha256=" + strings.Repeat("0", 64), body, 401, "bad signature"},
		{"tampered body", now, good, []byte(`{"condition":"RM1_Stopped","id":"sig-1"}`), 401, "bad signature"},
		{"stale timestamp", stale, sign.Sign(secret, stale, "POST", "/v1/alarms", body), body, 401, "stale"},
		{"signed for another path", now, sign.Sign(secret, now, "POST", "/v1/failover", body), body, 401, "bad signature"},
		{"signed with a query the request lacks", now, sign.Sign(secret, now, "POST", "/v1/alarms?wait=0", body), body, 401, "bad signature"},
		{"not a timestamp", "yesterday", good, body, 401, "Unix seconds"},
		{"good", now, good, body, 422, ""},
		{"replayed", now, good, body, 401, "already used"},
	}
	for _, tt := range tests {
		code, resp := send(tt.ts, tt.sig, tt.body)
		if code != tt.want || !strings.Contains(string(resp), tt.msg) {
			t.Errorf("%s: %d %s, want %d %q", tt.name, code, resp, tt.want, tt.msg)
		}
	}
	if n := len(a.events()); n != 1 {
		t.Errorf("%d events stored, want only the good one", n)
	}
	// A signature grants trigger, not read.
	code, _, _ := a.do("GET", "/v1/events", "", nil, httpapi.HeaderTimestamp, now, httpapi.HeaderSignature, sign.Sign(secret, now, "GET", "/v1/events", nil))
	if code != 403 {
		t.Errorf("signed GET /v1/events: %d, want 403", code)
	}
}

// A peer's request stamped far ahead of this node's clock would supersede
// every move for that long: refused, and nothing runs.
func TestPeerIntentAheadRefused(t *testing.T) {
	a := newAPI(t, "", nil)
	for _, tc := range []struct {
		ahead time.Duration
		want  int
	}{{2 * time.Minute, 400}, {10 * time.Second, 200}} {
		body := fmt.Sprintf(`{"id":"rm2-x#0","origin":"rm2-x-%d#0","intent_at":%q,"deadline":%q}`, tc.want,
			time.Now().Add(tc.ahead).UTC().Format(time.RFC3339Nano), time.Now().Add(5*time.Second).UTC().Format(time.RFC3339Nano))
		code, _, resp := a.do("POST", "/v1/vips/rm-vip/disable", "application/json", []byte(body))
		if code != tc.want || (tc.want == 400 && !strings.Contains(string(resp), "intent_at: more than 1m0s ahead")) {
			t.Errorf("intent_at %s ahead: %d %s, want %d", tc.ahead, code, resp, tc.want)
		}
	}
}

// A VIP's view says moving while an event touching it is in flight here
// (its move is not in last_action and intent yet), and not once it ended.
func TestVIPViewSaysMovingWhileAnEventRuns(t *testing.T) {
	a := newAPI(t, "", nil)
	seen := false
	for i := 0; i < 10 && !seen; i++ {
		action := []string{"enable", "disable"}[i%2]
		_, _, body := a.do("POST", "/v1/vips/slow-vip/"+action+"?wait=0", "", nil)
		id := decode[reactions.Result](t, body).EventID
		if id == "" {
			t.Fatalf("%s: no event: %s", action, body)
		}
		_, _, body = a.do("GET", "/v1/vips/slow-vip", "", nil)
		during := decode[wire.VIPView](t, body)
		ev, err := a.m.Journal.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if !ev.Status.Final() {
			// Still running after the view was made: it was running then.
			seen = true
			if !during.Moving {
				t.Errorf("view during event %s (%s): moving false: %s", id, ev.Status, body)
			}
			_, _, body = a.do("GET", "/v1/vips", "", nil)
			for _, v := range decode[struct{ VIPs []wire.VIPView }](t, body).VIPs {
				if v.Moving != (v.Name == "slow-vip") {
					t.Errorf("list during event %s: %s moving %v", id, v.Name, v.Moving)
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = a.m.Engine.Wait(ctx, id)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		_, _, body = a.do("GET", "/v1/vips/slow-vip", "", nil)
		if after := decode[wire.VIPView](t, body); after.Moving || after.LastAction == nil || after.LastAction.EventID != id {
			t.Errorf("view after event %s ended: moving %v, last action %+v", id, after.Moving, after.LastAction)
		}
	}
	if !seen {
		t.Error("no view was made while a 400 ms move ran, in 10 tries")
	}
}
