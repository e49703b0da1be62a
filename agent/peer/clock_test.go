package peer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/peer"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
)

// skewedPeer is an agent whose clock runs skew ahead of ours: /healthz
// tells its time, and the deadline of each step it is sent is recorded.
func skewedPeer(t *testing.T, skew time.Duration, deadlines chan<- time.Time) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"status":"alive","node":"rm2","time":%q}`, time.Now().Add(skew).UTC().Format(time.RFC3339Nano))
	})
	mux.HandleFunc("/v1/vips/rm-vip/disable", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Deadline time.Time `json:"deadline"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Error(err)
		}
		deadlines <- body.Deadline
		fmt.Fprint(w, `{"event_id":"rm2-1","status":"succeeded","steps":[{"action":"disable","vip":"rm-vip","outcome":"changed"}]}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// A request's deadline is when the caller stops listening, told in the
// peer's clock: a peer whose clock runs ahead does not take every request
// for expired, and one whose clock runs behind does not act after the
// caller gave up. The offset is measured by the /healthz probes.
func TestDeadlineInThePeersClock(t *testing.T) {
	for _, skew := range []time.Duration{-7 * time.Second, 0, 7 * time.Second} {
		t.Run(skew.String(), func(t *testing.T) {
			deadlines := make(chan time.Time, 1)
			srv := skewedPeer(t, skew, deadlines)
			c := peer.New(map[string]peer.Node{"rm2": {URL: srv.URL, Token: "secret-token-0123456789"}}, nil)
			if err := c.Probe(context.Background(), "rm2"); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			gaveUp, _ := ctx.Deadline()
			step := reactions.Step{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm2"}
			if _, err := c.Do(ctx, "rm2", step, engine.PeerRequest{Origin: "rm1-1#0", IntentAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			got := <-deadlines
			// In the peer's clock: no later than when we give up, and not
			// much earlier (a tenth is kept for the answer, plus the
			// measurement's error).
			latest := gaveUp.Add(skew)
			if got.After(latest) || got.Before(latest.Add(-400*time.Millisecond)) {
				t.Errorf("deadline sent %s after our give-up time in the peer's clock (want -400ms..0)", got.Sub(latest))
			}
		})
	}
}
