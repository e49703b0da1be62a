package peer_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/agent/peer"
	"github.com/vipagent/vipagent/reactions"
)

const token = "peer-test-token-0123456789"

// agentStub answers GET /v1/vips/{name} as an agent does and fails the
// test on any other call.
func agentStub(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"unauthorized: unknown token","status":401}`))
			return
		}
		if r.Method != http.MethodGet {
			t.Errorf("unexpected invocation %s %s", r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/vips/rm-vip":
			w.Write([]byte(`{"name":"rm-vip","address":"192.0.2.100/24","backend":"fake","node":"rm2",
"state":{"present":true,"detail":"fake: 192.0.2.100/24 present on eth0"},"observed_at":"2024-05-02T10:00:00Z",
"last_action":{"event_id":"rm2-20240502T095900-000001","step":{"index":0,"action":"enable","vip":"rm-vip","node":"rm2",
"outcome":"changed","started_at":"2024-05-02T09:59:00Z","duration_ms":0.2,"attempts":1}},"moving":true}`))
		case "/v1/vips/broken":
			w.Write([]byte(`{"name":"broken","backend":"netsh","node":"rm2","error":"observe: netsh exited 1","observed_at":"2024-05-02T10:00:00Z"}`))
		case "/v1/vips/fresh":
			w.Write([]byte(`{"name":"fresh","backend":"fake","node":"rm2","state":{"present":false},"observed_at":"2024-05-02T10:00:00Z"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"not found","status":404}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestVIP(t *testing.T) {
	srv := agentStub(t)
	c := peer.New(map[string]peer.Node{
		"rm2":      {URL: srv.URL, Token: token},
		"badtoken": {URL: srv.URL, Token: "wrong-token-0123456789"},
		"notoken":  {URL: srv.URL},
	}, nil)
	got, err := c.VIP(context.Background(), "rm2", "rm-vip")
	if err != nil {
		t.Fatal(err)
	}
	want := peer.VIP{
		State: reactions.VIPState{Present: true, Detail: "fake: 192.0.2.100/24 present on eth0"},
		LastAction: &reactions.StepResult{Action: reactions.ActionEnable, VIP: "rm-vip", Node: "rm2", Outcome: reactions.OutcomeChanged,
			StartedAt: time.Date(2024, 5, 2, 9, 59, 0, 0, time.UTC), DurationMS: 0.2, Attempts: 1},
		LastEvent: "rm2-20240502T095900-000001",
		Moving:    true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("VIP (-want +got):\n%s", diff)
	}
	st, err := c.Observe(context.Background(), "rm2", "fresh")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(reactions.VIPState{}, st); diff != "" {
		t.Errorf("Observe (-want +got):\n%s", diff)
	}
	if v, err := c.VIP(context.Background(), "rm2", "fresh"); err != nil || v.LastAction != nil {
		t.Errorf("VIP without last action: %+v, %v", v, err)
	}

	errTests := []struct {
		name, node, vip string
		wantIs          error
	}{
		{"vip not managed there", "rm2", "other-vip", reactions.ErrNotFound},
		{"peer could not observe", "rm2", "broken", nil},
		{"wrong token", "badtoken", "rm-vip", nil},
		{"no token", "notoken", "rm-vip", nil},
		{"unknown node", "rm9", "rm-vip", nil},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Observe(context.Background(), tt.node, tt.vip)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if errors.Is(err, reactions.ErrUnreachable) {
				t.Errorf("error %v marked unreachable, but the node answered", err)
			}
		})
	}
}

func TestObserveUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := peer.New(map[string]peer.Node{"rm2": {URL: "http://user:secret@" + addr, Token: token}}, nil)
	_, err = c.Observe(context.Background(), "rm2", "rm-vip")
	if !errors.Is(err, reactions.ErrUnreachable) {
		t.Fatalf("error %v, want unreachable", err)
	}
	if msg := err.Error(); strings.Contains(msg, "secret") {
		t.Errorf("error shows the URL's password: %s", msg)
	}
}
