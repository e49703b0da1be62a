package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/httpapi"
	"github.com/vipagent/vipagent/agent/sign"
	"github.com/vipagent/vipagent/reactions"
)

var (
	webhookSecret = []byte("webhook-secret-0123456789")
	tokens        = map[string]string{
		config.RoleTrigger: "trigger-token-0123456789",
		config.RoleRead:    "read-token-0123456789ab",
		config.RoleAdmin:   "admin-token-0123456789a",
	}
)

func adminEnv(k string) string {
	if k == "ADMIN_TOKEN" {
		return tokens[config.RoleAdmin]
	}
	return ""
}

// routeParam matches a chi path parameter, with its optional regexp.
var routeParam = regexp.MustCompile(`\{([a-z_]+)(?::([^}]*))?\}`)

// pathOf fills a route pattern's parameters with sample values: the first
// alternative of a regexp, else a name that exists (a VIP) or not (an ID).
func pathOf(pattern string) string {
	return routeParam.ReplaceAllStringFunc(pattern, func(m string) string {
		sub := routeParam.FindStringSubmatch(m)
		if sub[2] != "" {
			first, _, _ := strings.Cut(sub[2], "|")
			return first
		}
		if sub[1] == "name" {
			return "rm-vip"
		}
		return "nope"
	})
}

// TestAuthMatrix walks every route the router really registered, checks it
// is in the route table with a role, and tries it with every kind of
// credential. A route added without a role fails here.
func TestAuthMatrix(t *testing.T) {
	a := newAPI(t, authYAML, adminEnv)
	srv := a.m.Handler.(*httpapi.Server)
	table := map[string]httpapi.Route{}
	for _, rt := range srv.Routes() {
		table[rt.Method+" "+rt.Pattern] = rt
	}
	var walked []string
	if err := chi.Walk(srv.Router(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		walked = append(walked, method+" "+route)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(walked)
	if diff := cmp.Diff(slices.Sorted(func(yield func(string) bool) {
		for k := range table {
			if !yield(k) {
				return
			}
		}
	}), walked); diff != "" {
		t.Fatalf("registered routes and the route table differ (-table +registered):\n%s", diff)
	}

	const allowed = 0 // anything but 401 and 403 (and no 5xx)
	for _, route := range walked {
		rt := table[route]
		switch rt.Role {
		case config.RoleRead, config.RoleTrigger, config.RoleAdmin, httpapi.RoleOpen:
		default:
			t.Errorf("%s: role %q is not a role", route, rt.Role)
			continue
		}
		path := pathOf(rt.Pattern)
		want := func(role string) int {
			if rt.Role == httpapi.RoleOpen || httpapi.RoleAllows(role, rt.Role) {
				return allowed
			}
			return http.StatusForbidden
		}
		unauth := http.StatusUnauthorized
		if rt.Role == httpapi.RoleOpen {
			unauth = allowed
		}
		now := strconv.FormatInt(time.Now().Unix(), 10)
		stale := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
		validSig := sign.Sign(webhookSecret, now, rt.Method, path, nil)
		for _, c := range []struct {
			name string
			hdr  []string
			want int
		}{
			{"no credential", nil, unauth},
			{"wrong token", []string{"Authorization", "Bearer not-a-token-at-all-000"}, unauth},
			{"read", []string{"Authorization", "Bearer " + tokens[config.RoleRead]}, want(config.RoleRead)},
			{"trigger", []string{"Authorization", "Bearer " + tokens[config.RoleTrigger]}, want(config.RoleTrigger)},
			{"admin", []string{"Authorization", "bearer " + tokens[config.RoleAdmin]}, want(config.RoleAdmin)},
			{"valid signature", []string{httpapi.HeaderTimestamp, now, httpapi.HeaderSignature, validSig}, want(config.RoleTrigger)},
			{"replayed signature", []string{httpapi.HeaderTimestamp, now, httpapi.HeaderSignature, validSig}, unauth},
			{"signature for another path", []string{httpapi.HeaderTimestamp, now,
				httpapi.HeaderSignature, sign.Sign(webhookSecret, now, rt.Method, "/v1/other", nil)}, unauth},
			{"stale timestamp", []string{httpapi.HeaderTimestamp, stale,
				httpapi.HeaderSignature, sign.Sign(webhookSecret, stale, rt.Method, path, nil)}, unauth},
		} {
			code, _, body := a.do(rt.Method, path, "", nil, c.hdr...)
			switch {
			case c.want == allowed && (code == 401 || code == 403 || code >= 500):
				t.Errorf("%s %s with %s: %d, want it let through: %s", rt.Method, path, c.name, code, body)
			case c.want != allowed && code != c.want:
				t.Errorf("%s %s with %s: %d, want %d: %s", rt.Method, path, c.name, code, c.want, body)
			}
		}
	}
}

func TestAuthorizationHeader(t *testing.T) {
	a := newAPI(t, authYAML, adminEnv)
	for _, tt := range []struct {
		header string
		want   int
	}{
		{"Bearer " + tokens[config.RoleRead], 200},
		{"bearer " + tokens[config.RoleRead], 200},
		{"BEARER " + tokens[config.RoleRead], 200},
		{"Bearer   " + tokens[config.RoleRead], 200},
		{"Basic " + tokens[config.RoleRead], 401},
		{"Bearer", 401},
		{"Bearer ", 401},
		{tokens[config.RoleRead], 401},
	} {
		if code, _, body := a.do("GET", "/v1/events", "", nil, "Authorization", tt.header); code != tt.want {
			t.Errorf("Authorization %q: %d, want %d: %s", tt.header, code, tt.want, body)
		}
	}
}

// A replay needs the role its original needed, runs the original's plan,
// and takes no body and no parameter it does not know.
func TestReplayNeedsTheOriginalsRole(t *testing.T) {
	a := newAPI(t, authYAML, adminEnv)
	a.tok = tokens[config.RoleAdmin]
	_, _, body := a.postJSON("/v1/vips/rm-vip/enable", map[string]any{"force": true, "reason": "by hand"})
	forced := decode[reactions.Result](t, body).EventID
	_, _, body = a.postJSON("/v1/vips/rm-vip/disable", map[string]any{})
	manual := decode[reactions.Result](t, body).EventID
	a.tok = tokens[config.RoleTrigger]
	_, _, body = a.postJSON("/v1/alarms", map[string]any{"condition": "RM1_Started"})
	alarm := decode[reactions.Result](t, body).EventID
	_, _, body = a.postJSON("/v1/alarms", map[string]any{"condition": "Forced_Up"})
	forcedAlarm := decode[reactions.Result](t, body).EventID
	repair, _, err := a.m.Engine.Submit(&reactions.Event{Source: reactions.SourceReconcile, Alarm: reactions.Alarm{Condition: "VIP_Drift"},
		Plan: &reactions.Plan{Reaction: "reconcile", Steps: []reactions.Step{{Action: reactions.ActionEnable, VIP: "rm-vip"}}}})
	if forced == "" || manual == "" || alarm == "" || forcedAlarm == "" || err != nil {
		t.Fatalf("setup: %q %q %q %q %v", forced, manual, alarm, forcedAlarm, err)
	}

	for _, tt := range []struct {
		name, role, path, body string
		want                   int
		msg                    string
	}{
		{"trigger replays an alarm", config.RoleTrigger, "/v1/events/" + alarm + "/replay", "", 200, ""},
		{"trigger dry-runs an alarm", config.RoleTrigger, "/v1/events/" + alarm + "/replay?dry_run=1", "", 200, ""},
		{"trigger replays a manual action", config.RoleTrigger, "/v1/events/" + manual + "/replay", "", 403, "needs admin"},
		{"trigger replays a forced enable", config.RoleTrigger, "/v1/events/" + forced + "/replay", "", 403, "needs admin"},
		{"trigger dry-runs a forced enable", config.RoleTrigger, "/v1/events/" + forced + "/replay?dry_run=true", "", 403, "needs admin"},
		{"trigger replays an alarm whose rule forces", config.RoleTrigger, "/v1/events/" + forcedAlarm + "/replay", "", 403, "needs admin"},
		{"trigger dry-runs an alarm whose rule forces", config.RoleTrigger, "/v1/events/" + forcedAlarm + "/replay?dry_run=1", "", 403, "needs admin"},
		{"trigger replays a reconcile repair", config.RoleTrigger, "/v1/events/" + repair.ID + "/replay", "", 403, "needs admin"},
		{"admin replays an alarm whose rule forces", config.RoleAdmin, "/v1/events/" + forcedAlarm + "/replay", "", 200, ""},
		{"read replays an alarm", config.RoleRead, "/v1/events/" + alarm + "/replay", "", 403, "needs trigger"},
		{"a body cannot add force", config.RoleAdmin, "/v1/events/" + manual + "/replay", `{"force":true}`, 400, "body: this endpoint takes none"},
		{"unknown parameter", config.RoleAdmin, "/v1/events/" + manual + "/replay?force=true", "", 400, "force: unknown query parameter"},
		{"dry_run=TRUE", config.RoleAdmin, "/v1/events/" + manual + "/replay?dry_run=TRUE", "", 400, "is not a boolean (true, false, 1 or 0)"},
		{"dry_run=maybe", config.RoleAdmin, "/v1/events/" + manual + "/replay?dry_run=maybe", "", 400, "is not a boolean"},
		{"dry_run empty", config.RoleAdmin, "/v1/events/" + manual + "/replay?dry_run=", "", 400, "is not a boolean"},
		{"dry_run twice", config.RoleAdmin, "/v1/events/" + manual + "/replay?dry_run=1&dry_run=0", "", 400, "dry_run: given 2 times"},
		{"admin replays a manual action", config.RoleAdmin, "/v1/events/" + manual + "/replay?dry_run=false", "", 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a.tok = tokens[tt.role]
			before := len(a.events())
			code, _, body := a.do("POST", tt.path, "application/json", []byte(tt.body))
			if code != tt.want || !strings.Contains(string(body), tt.msg) {
				t.Errorf("%d %s, want %d %q", code, body, tt.want, tt.msg)
			}
			journaled := len(a.events()) - before
			if wantNew := 0; code == 200 && !strings.Contains(tt.path, "dry_run=1") && !strings.Contains(tt.path, "dry_run=true") {
				wantNew = 1
				if journaled != wantNew {
					t.Errorf("%d events journaled, want %d", journaled, wantNew)
				}
			} else if journaled != wantNew {
				t.Errorf("a refused or dry replay journaled %d events", journaled)
			}
		})
	}

	// The replay of a replay of a manual action still needs admin, and
	// runs the original's plan (the same forced step).
	a.tok = tokens[config.RoleAdmin]
	_, _, body = a.do("POST", "/v1/events/"+forced+"/replay", "", nil)
	first := decode[reactions.Result](t, body).EventID
	a.tok = tokens[config.RoleTrigger]
	if code, _, body := a.do("POST", "/v1/events/"+first+"/replay", "", nil); code != 403 {
		t.Errorf("trigger replays a replay of a forced enable: %d %s", code, body)
	}
	ev, err := a.m.Journal.Get(first)
	if err != nil || ev.Plan == nil || !ev.Plan.Steps[0].Force || ev.ReplayedSource != reactions.SourceManual {
		t.Errorf("replay event: %+v, %v", ev, err)
	}
}

// A signed request is refused as a replay after a restart too: the
// anti-replay memory is in the journal.
func TestSignatureReplayRefusedAfterRestart(t *testing.T) {
	dir := t.TempDir()
	body := []byte(`{"condition":"Nobody"}`)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	hdr := []string{httpapi.HeaderTimestamp, now, httpapi.HeaderSignature, sign.Sign(webhookSecret, now, "POST", "/v1/alarms", body)}
	a := newAPIAt(t, dir, authYAML, adminEnv)
	if code, _, resp := a.do("POST", "/v1/alarms", "application/json", body, hdr...); code != 422 {
		t.Fatalf("first: %d %s", code, resp)
	}
	a.close()
	b := newAPIAt(t, dir, authYAML, adminEnv)
	if code, _, resp := b.do("POST", "/v1/alarms", "application/json", body, hdr...); code != 401 || !strings.Contains(string(resp), "already used") {
		t.Errorf("after restart: %d %s, want 401 already used", code, resp)
	}
	if n := len(b.events()); n != 1 {
		t.Errorf("%d events, want 1", n)
	}
}

// An alarm (trigger role) cannot claim the idempotency key of a VIP action
// (admin, or a peer: "<its event>#<step>") so that the action is answered
// from the alarm's journal entry and never runs.
func TestAlarmCannotClaimAVIPActionsKey(t *testing.T) {
	a := newAPI(t, authYAML, adminEnv)
	const key = "rm2-20261130T070000-000001#0"
	a.tok = tokens[config.RoleTrigger]
	if code, _, body := a.postJSON("/v1/alarms", map[string]any{"condition": "Nobody", "id": key}); code != 422 {
		t.Fatalf("alarm: %d %s", code, body)
	}
	a.tok = tokens[config.RoleAdmin]
	for _, req := range []map[string]any{
		{"id": key, "origin": key},
		{"id": key, "origin": key}, // the peer's retry is answered from the journal
	} {
		code, _, body := a.postJSON("/v1/vips/rm-vip/disable", req)
		res := decode[reactions.Result](t, body)
		if code != 200 || res.Reaction != "manual-disable" || len(res.Steps) != 1 {
			t.Errorf("peer disable with the alarm's key: %d %s, want the disable run", code, body)
		}
	}
	if n := len(a.events()); n != 2 {
		t.Errorf("%d events journaled, want the alarm and one disable", n)
	}
}

// Credentials and the body's type are given once: the agent reads a
// header's first value, a proxy in front of it may read the last.
func TestRepeatedHeadersRefused(t *testing.T) {
	a := newAPI(t, authYAML, adminEnv)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	body := []byte(`{"condition":"Nobody"}`)
	sig := sign.Sign(webhookSecret, now, "POST", "/v1/alarms", body)
	for _, tt := range []struct {
		name   string
		header http.Header
		want   int
		msg    string
	}{
		{"two tokens, read first", http.Header{"Authorization": {"Bearer " + tokens[config.RoleRead], "Bearer " + tokens[config.RoleAdmin]}}, 400, "Authorization: header given 2 times"},
		{"two tokens, trigger first", http.Header{"Authorization": {"Bearer " + tokens[config.RoleTrigger], "Bearer " + tokens[config.RoleRead]}}, 400, "Authorization: header given 2 times"},
		{"two signatures", http.Header{sign.HeaderTimestamp: {now}, sign.HeaderSignature: {sig, sig}}, 400, "X-Vipagent-Signature: header given 2 times"},
		{"two timestamps", http.Header{sign.HeaderTimestamp: {now, now}, sign.HeaderSignature: {sig}}, 400, "X-Vipagent-Timestamp: header given 2 times"},
		{"two content types", http.Header{"Authorization": {"Bearer " + tokens[config.RoleTrigger]}, "Content-Type": {"application/json", "text/plain"}}, 400, "Content-Type: header given 2 times"},
		{"latin-1 JSON", http.Header{"Authorization": {"Bearer " + tokens[config.RoleTrigger]}, "Content-Type": {"application/json; charset=latin1"}}, 415, "JSON must be utf-8"},
		{"utf-8 JSON", http.Header{"Authorization": {"Bearer " + tokens[config.RoleTrigger]}, "Content-Type": {"application/json; charset=UTF-8"}}, 422, "no reaction rule"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(a.events())
			req, err := http.NewRequest("POST", a.srv.URL+"/v1/alarms", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tt.header
			if req.Header.Get("Content-Type") == "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want || !strings.Contains(string(got), tt.msg) {
				t.Errorf("%d %s, want %d %q", resp.StatusCode, got, tt.want, tt.msg)
			}
			if n := len(a.events()) - before; tt.want != 422 && n != 0 {
				t.Errorf("a refused request journaled %d events", n)
			}
		})
	}
}
