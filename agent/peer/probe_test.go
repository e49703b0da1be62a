package peer_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/peer"
	"github.com/vipagent/vipagent/reactions"
)

func TestProbe(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/alive/healthz", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("probe sent credentials")
		}
		w.Write([]byte(`{"status":"alive"}`))
	})
	mux.HandleFunc("/broken/healthz", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "journal gone", http.StatusInternalServerError)
	})
	mux.HandleFunc("/frozen/healthz", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(release)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	c := peer.New(map[string]peer.Node{
		"alive":  {URL: srv.URL + "/alive", Token: "secret-token-0123456789"},
		"broken": {URL: srv.URL + "/broken"},
		"frozen": {URL: srv.URL + "/frozen"},
		"gone":   {URL: gone.URL},
	}, nil)
	tests := []struct {
		node            string
		wantErr         bool
		wantUnreachable bool
	}{
		{node: "alive"},
		{node: "broken", wantErr: true},
		{node: "frozen", wantErr: true, wantUnreachable: true},
		{node: "gone", wantErr: true, wantUnreachable: true},
		{node: "unknown", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.node, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			err := c.Probe(ctx, tt.node)
			if (err != nil) != tt.wantErr || errors.Is(err, reactions.ErrUnreachable) != tt.wantUnreachable {
				t.Errorf("Probe(%s) = %v; want error %v, unreachable %v", tt.node, err, tt.wantErr, tt.wantUnreachable)
			}
		})
	}
}
