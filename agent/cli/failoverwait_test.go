package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// `failover` waits by default for the whole move the config describes:
// with two nodes and a VIP whose steps may take 100 s each, its default
// wait is 2 x 100 s plus the margin, not the 2 minutes that would call a
// slow but healthy move's outcome unknown; --wait still wins.
func TestFailoverDefaultWaitCoversTheMove(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "vipagent.yaml")
	var mu sync.Mutex
	var waits []string
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/identity" {
			answerIdentity(t, w, r, cfg)
			return
		}
		mu.Lock()
		waits = append(waits, r.URL.Query().Get("wait"))
		mu.Unlock()
		http.Error(w, `{"error":"no","status":503}`, http.StatusServiceUnavailable)
	}))
	defer agent.Close()
	body := fmt.Sprintf("node: rm1\nlisten: %s\ndata_dir: %s\nnodes: {rm1: {member_id: 1}, rm2: {member_id: 2, url: %q}}\n"+
		"vips: {rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake, timeout: 100s}}\n",
		agent.Listener.Addr(), filepath.Join(filepath.Dir(cfg), "data"), agent.URL)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	runCLI(t, "failover", "enable", "1", "--config", cfg)
	runCLI(t, "failover", "enable", "1", "--config", cfg, "--wait", "5s")
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 2 || waits[0] != "3m30s" || waits[1] != "5s" {
		t.Errorf("failover asked the agent to wait %q, want [3m30s 5s] (2 nodes x 100 s + 10 s, then --wait)", waits)
	}
}
