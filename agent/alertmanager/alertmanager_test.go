package alertmanager_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/alertmanager"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/httpapi"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/rules"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/fake"
)

// stack is a real receiver: httpapi server with the Alertmanager route, the
// engine, a journal in t.TempDir and fake VIP backends.
type stack struct {
	url     string
	journal *journal.Journal
	engine  *engine.Engine
	vips    map[string]*fake.Backend
}

var testRules = rules.Rules{
	{Name: "rm1-down", Match: rules.Match{Condition: []string{"RM1_Down"}, Labels: map[string][]string{alertmanager.StatusLabel: {"firing"}}},
		Steps: []reactions.Step{{Action: reactions.ActionDisable, VIP: "vip-a"}}},
	{Name: "rm2-recovered", Match: rules.Match{Condition: []string{"RM2_Down"}, Labels: map[string][]string{alertmanager.StatusLabel: {"resolved"}}},
		Steps: []reactions.Step{{Action: reactions.ActionEnable, VIP: "vip-c"}}},
	{Name: "probe-failed", Match: rules.Match{Condition: []string{"VIPProbeFailed"}, Host: []string{"rm2"}},
		Steps: []reactions.Step{{Action: reactions.ActionEnable, VIP: "vip-b"}}},
}

func newStack(t *testing.T, resolved string) *stack {
	t.Helper()
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"), journal.Options{Node: "rm1"})
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{journal: j, vips: map[string]*fake.Backend{}}
	vips := map[string]engine.VIP{}
	initial := map[string]string{"vip-a": "present", "vip-b": "absent", "vip-c": "absent"}
	for i, name := range []string{"vip-a", "vip-b", "vip-c"} {
		b, err := fake.New(vip.Spec{Name: name, Prefix: netip.MustParsePrefix(fmt.Sprintf("192.0.2.%d/24", i+1)), Interface: "eth0"},
			map[string]any{"initial": initial[name]})
		if err != nil {
			t.Fatal(err)
		}
		s.vips[name] = b
		vips[name] = engine.VIP{Backend: b, Kind: "fake"}
	}
	s.engine = engine.New(engine.Config{Node: "rm1", VIPs: vips, Rules: testRules, Journal: j, Logger: zerolog.Nop()})
	cfg := config.Defaults()
	cfg.Node = "rm1"
	cfg.Nodes = map[string]config.Node{"rm1": {}}
	cfg.Alertmanager.Resolved = resolved
	h := httpapi.NewServer(httpapi.Deps{Config: &cfg, Engine: s.engine, Journal: j, Logger: zerolog.Nop()})
	srv := httptest.NewServer(h)
	s.url = srv.URL + "/v1/alertmanager"
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.engine.Close(ctx); err != nil {
			t.Error(err)
		}
		j.Close()
	})
	return s
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func post(t *testing.T, url string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

func decode(t *testing.T, data []byte) alertmanager.Response {
	t.Helper()
	var r alertmanager.Response
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return r
}

// finished waits for an event's result.
func (s *stack) finished(t *testing.T, id string) *reactions.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := s.engine.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Status.Final() {
		t.Fatalf("event %s still %s", id, ev.Status)
	}
	return ev
}

func (s *stack) calls() map[string][]string {
	out := map[string][]string{}
	for name, b := range s.vips {
		if c := b.Calls(); len(c) > 0 {
			out[name] = c
		}
	}
	return out
}

func (s *stack) events(t *testing.T) int {
	t.Helper()
	evs, err := s.journal.List(journal.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

type outcome struct {
	Fingerprint string
	Reaction    string
	Status      reactions.Status
}

func TestNotifications(t *testing.T) {
	tests := []struct {
		name     string
		resolved string
		payloads []string
		// wantResponses are the answers to each payload, event IDs left out.
		wantResponses []alertmanager.Response
		wantOutcomes  []outcome
		wantCalls     map[string][]string
	}{
		{
			name:     "firing",
			resolved: "ignore",
			payloads: []string{"firing.json"},
			wantResponses: []alertmanager.Response{{Events: []alertmanager.EventRef{
				{Fingerprint: "3f1c9a2b7d4e5f60", Status: reactions.StatusAccepted}}}},
			wantOutcomes: []outcome{{"3f1c9a2b7d4e5f60", "rm1-down", reactions.StatusSucceeded}},
			wantCalls:    map[string][]string{"vip-a": {"disable"}},
		},
		{
			name:     "grouped, resolved ignored",
			resolved: "ignore",
			payloads: []string{"grouped.json"},
			wantResponses: []alertmanager.Response{{Ignored: 1, Events: []alertmanager.EventRef{
				{Fingerprint: "3f1c9a2b7d4e5f60", Status: reactions.StatusAccepted},
				{Fingerprint: "a07b3c5d9e1f2a34", Status: reactions.StatusAccepted}}}},
			wantOutcomes: []outcome{
				{"3f1c9a2b7d4e5f60", "rm1-down", reactions.StatusSucceeded},
				{"a07b3c5d9e1f2a34", "probe-failed", reactions.StatusSucceeded},
			},
			wantCalls: map[string][]string{"vip-a": {"disable"}, "vip-b": {"enable"}},
		},
		{
			name:     "grouped, resolved matched",
			resolved: "match",
			payloads: []string{"grouped.json"},
			wantResponses: []alertmanager.Response{{Events: []alertmanager.EventRef{
				{Fingerprint: "3f1c9a2b7d4e5f60", Status: reactions.StatusAccepted},
				{Fingerprint: "a07b3c5d9e1f2a34", Status: reactions.StatusAccepted},
				{Fingerprint: "5b6c7d8e9f0a1b2c", Status: reactions.StatusAccepted}}}},
			wantOutcomes: []outcome{
				{"3f1c9a2b7d4e5f60", "rm1-down", reactions.StatusSucceeded},
				{"a07b3c5d9e1f2a34", "probe-failed", reactions.StatusSucceeded},
				{"5b6c7d8e9f0a1b2c", "rm2-recovered", reactions.StatusSucceeded},
			},
			wantCalls: map[string][]string{"vip-a": {"disable"}, "vip-b": {"enable"}, "vip-c": {"enable"}},
		},
		{
			name:          "resolved only, ignored",
			resolved:      "ignore",
			payloads:      []string{"resolved.json"},
			wantResponses: []alertmanager.Response{{Events: []alertmanager.EventRef{}, Ignored: 1}},
		},
		{
			name:     "resolved only, matched but no rule for it",
			resolved: "match",
			payloads: []string{"resolved.json"},
			wantResponses: []alertmanager.Response{{Events: []alertmanager.EventRef{
				{Fingerprint: "3f1c9a2b7d4e5f60", Status: reactions.StatusAccepted}}}},
			wantOutcomes: []outcome{{"3f1c9a2b7d4e5f60", "", reactions.StatusUnmatched}},
		},
		{
			name:     "truncated",
			resolved: "ignore",
			payloads: []string{"truncated.json"},
			wantResponses: []alertmanager.Response{{Truncated: 2, Events: []alertmanager.EventRef{
				{Fingerprint: "a07b3c5d9e1f2a34", Status: reactions.StatusAccepted}}}},
			wantOutcomes: []outcome{{"a07b3c5d9e1f2a34", "probe-failed", reactions.StatusSucceeded}},
			wantCalls:    map[string][]string{"vip-b": {"enable"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStack(t, tt.resolved)
			var got []alertmanager.Response
			var ids []string
			for _, p := range tt.payloads {
				code, body := post(t, s.url, fixture(t, p))
				if code != http.StatusOK {
					t.Fatalf("POST %s: %d %s", p, code, body)
				}
				r := decode(t, body)
				for i := range r.Events {
					if r.Events[i].EventID == "" {
						t.Errorf("event %d has no ID", i)
					}
					ids = append(ids, r.Events[i].EventID)
					r.Events[i].EventID = ""
				}
				got = append(got, r)
			}
			if diff := cmp.Diff(tt.wantResponses, got); diff != "" {
				t.Errorf("responses (-want +got):\n%s", diff)
			}
			var outcomes []outcome
			for _, id := range ids {
				ev := s.finished(t, id)
				outcomes = append(outcomes, outcome{strings.Split(ev.Key, ":")[1], ev.Result.Reaction, ev.Status})
			}
			if diff := cmp.Diff(tt.wantOutcomes, outcomes); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			if tt.wantCalls == nil {
				tt.wantCalls = map[string][]string{}
			}
			if diff := cmp.Diff(tt.wantCalls, s.calls()); diff != "" {
				t.Errorf("backend calls (-want +got):\n%s", diff)
			}
			if n := s.events(t); n != len(ids) {
				t.Errorf("journal holds %d events, want %d", n, len(ids))
			}
		})
	}
}

// A notification repeated (repeat_interval, or a retry after a lost
// answer) is answered from the journal and executes nothing again.
func TestRepeatedNotificationExecutesOnce(t *testing.T) {
	s := newStack(t, "ignore")
	code, body := post(t, s.url, fixture(t, "grouped.json"))
	if code != http.StatusOK {
		t.Fatalf("first: %d %s", code, body)
	}
	first := decode(t, body)
	for _, e := range first.Events {
		s.finished(t, e.EventID)
	}
	for range 3 {
		code, body = post(t, s.url, fixture(t, "grouped.json"))
		if code != http.StatusOK {
			t.Fatalf("repeat: %d %s", code, body)
		}
		again := decode(t, body)
		want := alertmanager.Response{Ignored: 1}
		for _, e := range first.Events {
			want.Events = append(want.Events, alertmanager.EventRef{Fingerprint: e.Fingerprint, EventID: e.EventID, Duplicate: true, Status: reactions.StatusSucceeded})
		}
		if diff := cmp.Diff(want, again); diff != "" {
			t.Errorf("repeat (-want +got):\n%s", diff)
		}
	}
	if diff := cmp.Diff(map[string][]string{"vip-a": {"disable"}, "vip-b": {"enable"}}, s.calls()); diff != "" {
		t.Errorf("backend calls (-want +got):\n%s", diff)
	}
	if n := s.events(t); n != 2 {
		t.Errorf("journal holds %d events, want 2", n)
	}
}

// The same alert firing again after it resolved has a new startsAt: a new
// event.
func TestRefiringIsNewEvent(t *testing.T) {
	s := newStack(t, "ignore")
	_, body := post(t, s.url, fixture(t, "firing.json"))
	first := decode(t, body)
	s.finished(t, first.Events[0].EventID)
	later := bytes.Replace(fixture(t, "firing.json"), []byte("2024-05-02T10:15:30.123456789Z"), []byte("2024-05-02T11:00:00Z"), 1)
	code, body := post(t, s.url, later)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	second := decode(t, body)
	if second.Events[0].Duplicate || second.Events[0].EventID == first.Events[0].EventID {
		t.Errorf("refiring answered as duplicate of %s: %+v", first.Events[0].EventID, second.Events[0])
	}
}

func TestAlarmMapping(t *testing.T) {
	m, err := alertmanager.Decode(fixture(t, "firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		opts  alertmanager.Options
		alert func(a alertmanager.Alert) alertmanager.Alert
		want  reactions.Alarm
	}{
		{
			name: "condition label",
			opts: alertmanager.Options{ConditionLabel: "condition"},
			want: reactions.Alarm{
				ID: "am:3f1c9a2b7d4e5f60:firing:1714644930", Condition: "RM1_Down", Host: "rm1:9100", Severity: "critical",
				Text: "Resource Manager on rm1 is down", Time: time.Date(2024, 5, 2, 10, 15, 30, 123456789, time.UTC),
				Labels: map[string]string{"alertname": "RMProcessDown", "condition": "RM1_Down", "instance": "rm1:9100",
					"job": "genesys-rm", "severity": "critical", "alertmanager_status": "firing"},
			},
		},
		{
			name: "other condition label absent: alertname; host label wins over instance; description when no summary",
			opts: alertmanager.Options{ConditionLabel: "genesys_condition"},
			alert: func(a alertmanager.Alert) alertmanager.Alert {
				a.Labels = map[string]string{"alertname": "RMProcessDown", "instance": "10.0.0.1:9100", "host": "rm1"}
				a.Annotations = map[string]string{"description": "details"}
				return a
			},
			want: reactions.Alarm{
				ID: "am:3f1c9a2b7d4e5f60:firing:1714644930", Condition: "RMProcessDown", Host: "rm1", Text: "details",
				Time: time.Date(2024, 5, 2, 10, 15, 30, 123456789, time.UTC),
				Labels: map[string]string{"alertname": "RMProcessDown", "instance": "10.0.0.1:9100", "host": "rm1",
					"alertmanager_status": "firing"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := m.Alerts[0]
			if tt.alert != nil {
				a = tt.alert(a)
			}
			if diff := cmp.Diff(tt.want, tt.opts.Alarm(a)); diff != "" {
				t.Errorf("alarm (-want +got):\n%s", diff)
			}
		})
	}
}

// Payloads that will never be accepted get a 4xx (Alertmanager does not
// retry those) and nothing is journaled or run.
func TestRefused(t *testing.T) {
	firing := string(fixture(t, "firing.json"))
	tests := []struct {
		name        string
		body        string
		contentType string
		wantCode    int
		wantError   string
	}{
		{"malformed JSON", `{"version": "4", "alerts": [`, "", 400, "malformed JSON"},
		{"not an object", `[1, 2]`, "", 400, "body: must be a JSON object"},
		{"trailing data", firing + `{}`, "", 400, "more than one value"},
		{"version 3", strings.Replace(firing, `"version": "4"`, `"version": "3"`, 1), "", 400, `version: "3" is not supported`},
		{"no version", strings.Replace(firing, `"version": "4",`, ``, 1), "", 400, `version: "" is not supported`},
		{"unknown top-level field (Grafana's orgId)", strings.Replace(firing, `"version": "4",`, `"version": "4", "orgId": 1,`, 1), "", 400, `unknown field "orgId"`},
		{"unknown alert field", strings.Replace(firing, `"fingerprint": "3f1c9a2b7d4e5f60"`, `"fingerprint": "3f1c9a2b7d4e5f60", "silenceURL": "x"`, 1), "", 400, `unknown field "silenceURL"`},
		{"no fingerprint", strings.Replace(firing, `"fingerprint": "3f1c9a2b7d4e5f60"`, `"fingerprint": ""`, 1), "", 400, "alerts[0].fingerprint: required"},
		{"unknown alert status", strings.Replace(firing, `"status": "firing",
      "labels"`, `"status": "pending",
      "labels"`, 1), "", 400, `alerts[0].status: "pending"`},
		{"no startsAt", strings.Replace(firing, `"2024-05-02T10:15:30.123456789Z"`, `"0001-01-01T00:00:00Z"`, 1), "", 400, "alerts[0].startsAt: required"},
		{"no alerts", `{"version":"4","status":"firing","alerts":[]}`, "", 400, "alerts: empty"},
		{"label with a newline", strings.Replace(firing, `"job": "genesys-rm",
        "severity"`, `"job": "genesys\nrm",
        "severity"`, 1), "", 400, "labels.job: control characters"},
		{"label name Alarm.Validate refuses", strings.Replace(firing, `"job": "genesys-rm",
        "severity"`, `"9job": "genesys-rm",
        "severity"`, 1), "", 400, "is not a label name"},
		{"no condition and no alertname", strings.Replace(strings.Replace(firing, `"alertname": "RMProcessDown",
        "condition": "RM1_Down",
        "instance"`, `"instance"`, 1), "", "", 1), "", 400, "an alarm needs condition"},
		{"wrong content type", firing, "text/plain", 415, "Content-Type must be application/json"},
		{"too large", `{"version":"4","receiver":"` + strings.Repeat("x", 70<<10) + `"}`, "", 413, "body larger than"},
	}
	s := newStack(t, "ignore")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := tt.contentType
			if ct == "" {
				ct = "application/json"
			}
			resp, err := http.Post(s.url, ct, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got struct {
				Error  string `json:"error"`
				Status int    `json:"status"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantCode || got.Status != tt.wantCode {
				t.Errorf("status %d (%d in body), want %d: %s", resp.StatusCode, got.Status, tt.wantCode, got.Error)
			}
			if !strings.Contains(got.Error, tt.wantError) {
				t.Errorf("error %q does not say %q", got.Error, tt.wantError)
			}
		})
	}
	if n := s.events(t); n != 0 {
		t.Errorf("journal holds %d events after refused payloads, want 0", n)
	}
	if diff := cmp.Diff(map[string][]string{}, s.calls()); diff != "" {
		t.Errorf("backend calls (-want +got):\n%s", diff)
	}
}

// When the journal cannot store the events the answer is 503, which
// Alertmanager retries.
func TestJournalUnavailable(t *testing.T) {
	s := newStack(t, "ignore")
	if err := s.journal.Close(); err != nil {
		t.Fatal(err)
	}
	code, body := post(t, s.url, fixture(t, "firing.json"))
	if code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503: %s", code, body)
	}
	if diff := cmp.Diff(map[string][]string{}, s.calls()); diff != "" {
		t.Errorf("backend calls (-want +got):\n%s", diff)
	}
}
