package peer

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vipagent/vipagent/agent/version"
)

// Every peer call names vipagent's version.
func TestPeerCallsCarryUserAgent(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.UserAgent() }))
	defer srv.Close()
	c := New(nil, nil)
	resp, err := c.http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ua := <-got; ua != version.UserAgent() {
		t.Errorf("User-Agent %q, want %q", ua, version.UserAgent())
	}
}
