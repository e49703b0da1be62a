package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
	wire "github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/reactions"
)

// door is one way a caller asks for a move.
type door struct {
	name, path, body string
	// prepare runs first and may return the path to use (replay needs an
	// event to replay).
	prepare func(a *api) string
}

func doors() []door {
	return []door{
		{name: "alarm", path: "/v1/alarms", body: `{"condition":"RM1_Stopped"}`},
		{name: "failover", path: "/v1/failover", body: `{"action":"disable"}`},
		{name: "vip disable", path: "/v1/vips/rm-vip/disable", body: `{}`},
		{name: "replay", prepare: func(a *api) string {
			// rm-vip is present: a started alarm finds it so, and its
			// replay would be the move to check.
			code, _, body := a.postJSON("/v1/alarms", map[string]any{"condition": "RM1_Stopped"})
			if code != http.StatusOK {
				a.t.Fatalf("original: %d %s", code, body)
			}
			a.postJSON("/v1/alarms", map[string]any{"condition": "RM1_Started"})
			return "/v1/events/" + decode[reactions.Result](a.t, body).EventID + "/replay"
		}},
		{name: "alertmanager", path: "/v1/alertmanager", body: `{"version":"4","status":"firing","receiver":"vipagent","groupKey":"g","alerts":[{"status":"firing","labels":{"alertname":"RM1_Stopped"},"fingerprint":"f1","startsAt":"2026-01-01T00:00:00Z"}]}`},
	}
}

// deadlineReq sends a request with a deadline (header or query) and
// records the 1xx answers it got before the final one.
func deadlineReq(t *testing.T, a *api, path, body string, deadline time.Time, inQuery bool) (code int, early []textproto.MIMEHeader, hdr http.Header, data []byte) {
	t.Helper()
	u := a.srv.URL + path
	stamp := deadline.UTC().Format(time.RFC3339Nano)
	if inQuery {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "deadline=" + url.QueryEscape(stamp)
	}
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		mu.Lock()
		defer mu.Unlock()
		if code == http.StatusEarlyHints {
			early = append(early, h)
		}
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if !inQuery {
		req.Header.Set(wire.HeaderDeadline, stamp)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ = io.ReadAll(resp.Body)
	return resp.StatusCode, early, resp.Header, data
}

// eventIDs is the events a final answer names (a result, a 202, or
// Alertmanager's list).
func eventIDs(t *testing.T, data []byte) []string {
	var v struct {
		EventID string `json:"event_id"`
		Events  []struct {
			EventID string `json:"event_id"`
		} `json:"events"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	if v.EventID != "" {
		return []string{v.EventID}
	}
	var ids []string
	for _, e := range v.Events {
		ids = append(ids, e.EventID)
	}
	return ids
}

// Every door carries the caller's deadline: a request that arrives after
// it is journaled as expired, nothing is done (the VIP stays), and the
// answer is 410 (Alertmanager's door answers once journaled, and the
// event ends expired); the 103 that precedes it names the event.
func TestEveryDoorRefusesToActAfterTheDeadline(t *testing.T) {
	for _, d := range doors() {
		for _, inQuery := range []bool{false, true} {
			name := d.name + "/header"
			if inQuery {
				name = d.name + "/query"
			}
			t.Run(name, func(t *testing.T) {
				a := newAPI(t, "", nil)
				path := d.path
				if d.prepare != nil {
					path = d.prepare(a)
				}
				before := len(a.events())
				code, early, _, data := deadlineReq(t, a, path, d.body, time.Now().Add(-time.Second), inQuery)
				ids := eventIDs(t, data)
				if len(ids) != 1 {
					t.Fatalf("answer %d names events %v: %s", code, ids, data)
				}
				if len(early) != 1 || early[0].Get(wire.HeaderEvent) != ids[0] {
					t.Errorf("103 answers %v, want one naming %s", early, ids[0])
				}
				wantCode := http.StatusGone
				if d.name == "alertmanager" {
					wantCode = http.StatusOK
				}
				if code != wantCode {
					t.Errorf("status %d, want %d: %s", code, wantCode, data)
				}
				ev := waitEvent(t, a, ids[0])
				if ev.Status != reactions.StatusExpired {
					t.Errorf("event %s ended %s, want expired", ev.ID, ev.Status)
				}
				for _, s := range ev.Result.Steps {
					if s.Outcome != reactions.OutcomeSkipped {
						t.Errorf("step %d of an expired request: %s", s.Index, s.Outcome)
					}
				}
				if n := len(a.events()); n != before+1 {
					t.Errorf("journal gained %d events, want 1", n-before)
				}
				st, _, err := a.m.Engine.Observe(context.Background(), "rm-vip")
				if err != nil || !st.Present {
					t.Errorf("rm-vip present=%v (%v): an expired request acted", st.Present, err)
				}
			})
		}
	}
}

func waitEvent(t *testing.T, a *api, id string) *reactions.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := a.m.Engine.Wait(ctx, id)
	if err != nil || !ev.Status.Final() {
		t.Fatalf("event %s: %v %v", id, ev, err)
	}
	return ev
}

// A request still queued at its deadline ends expired; one with time
// left runs, and its caller heard of the event (103) before the result.
func TestDeadlineWhileQueued(t *testing.T) {
	a := newAPI(t, "", nil)
	// slow-vip's backend takes 400 ms: the first Slow holds the VIP.
	first := make(chan []byte, 1)
	go func() {
		_, _, _, data := deadlineReq(t, a, "/v1/alarms", `{"condition":"Slow"}`, time.Now().Add(5*time.Second), false)
		first <- data
	}()
	waitRunning(t, a)
	code, early, hdr, data := deadlineReq(t, a, "/v1/alarms?wait=2s", `{"condition":"Slow"}`, time.Now().Add(100*time.Millisecond), false)
	if code != http.StatusGone {
		t.Errorf("queued past its deadline: %d, want 410: %s", code, data)
	}
	id := eventIDs(t, data)[0]
	if len(early) != 1 || early[0].Get(wire.HeaderEvent) != id || hdr.Get(wire.HeaderEvent) != id {
		t.Errorf("103 %v, final header %q, want both naming %s", early, hdr.Get(wire.HeaderEvent), id)
	}
	res := decode[reactions.Result](t, <-first)
	if res.Status != reactions.StatusSucceeded {
		t.Errorf("request with time left: %s (%s)", res.Status, res.Error)
	}
}

// A deadline that cannot be read, disagrees with itself or lies far ahead
// is refused before anything is journaled; without one, no 103 is sent.
func TestDeadlineBadInput(t *testing.T) {
	a := newAPI(t, "", nil)
	soon := time.Now().Add(time.Minute).UTC().Format(time.RFC3339Nano)
	tests := []struct {
		name, query string
		header      []string
		want        string
	}{
		{"not a time", "", []string{wire.HeaderDeadline, "tomorrow"}, "X-Vipagent-Deadline: \"tomorrow\" is not an RFC 3339 time"},
		{"query not a time", "?deadline=5s", nil, "deadline: \"5s\" is not an RFC 3339 time"},
		{"disagree", "?deadline=" + url.QueryEscape(time.Now().Add(2*time.Minute).UTC().Format(time.RFC3339Nano)), []string{wire.HeaderDeadline, soon}, "differ"},
		{"far ahead", "", []string{wire.HeaderDeadline, time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, "ahead of this node's clock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, data := a.do(http.MethodPost, "/v1/failover"+tt.query, "application/json", []byte(`{"action":"disable"}`), tt.header...)
			if msg := decode[struct{ Error string }](t, data).Error; code != http.StatusBadRequest || !strings.Contains(msg, tt.want) {
				t.Errorf("%d %s, want 400 with %q", code, data, tt.want)
			}
		})
	}
	if n := len(a.events()); n != 0 {
		t.Errorf("journal holds %d events after bad deadlines, want 0", n)
	}
	var early int
	trace := &httptrace.ClientTrace{Got1xxResponse: func(int, textproto.MIMEHeader) error { early++; return nil }}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost, a.srv.URL+"/v1/alarms", strings.NewReader(`{"condition":"RM1_Started"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || early != 0 {
		t.Errorf("without a deadline: %d after %d informational answers, want 200 after none", resp.StatusCode, early)
	}
}

// waitRunning waits until the agent runs an event.
func waitRunning(t *testing.T, a *api) {
	t.Helper()
	agenttest.Eventually(t, 5*time.Second, func() bool {
		return slices.ContainsFunc(a.events(), func(ev reactions.Event) bool { return ev.Status == reactions.StatusRunning })
	}, "no event started running")
}
