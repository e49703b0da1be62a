package agent_test

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// An agent that comes up while a one-shot command waits for the journal
// takes the request: the command does not act beside it. Here the agent
// holds the journal but listens elsewhere, and its address starts
// answering (a proxy to it) while the command waits for the lock.
func TestInProcessWaitHandsOffToAnAgentThatComesUp(t *testing.T) {
	cfg, addr := agenttest.WriteConfig(t, e2eConfig)
	other := agenttest.FreeAddr(t)
	agenttest.Start(t, binary, cfg, other, "--listen", other)
	target, err := url.Parse("http://" + other)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: httputil.NewSingleHostReverseProxy(target), ReadHeaderTimeout: 5 * time.Second}
	t.Cleanup(func() { srv.Close() })
	go func() {
		// The agent's address starts answering 0.7 s after the command
		// starts: after its first try found nobody, inside the 2 s it
		// waits for the held journal. This is the scenario's timing;
		// nothing outside the command shows the moment it begins to wait.
		time.Sleep(700 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen at the config's address: %v", err)
			return
		}
		srv.Serve(ln)
	}()
	code, out, errOut := vipagent(t, "fire", "--condition", "RM1_Stopped", "--config", cfg, "--wait", "5s")
	if code != 0 || strings.Contains(errOut, "NOT journaled") || !strings.Contains(out, "disable rm-vip on rm1") {
		t.Errorf("exit %d, want 0, run by the agent:\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "data", "unjournaled.log")); err == nil {
		t.Errorf("an unjournaled run happened although the agent came up")
	}
	// The agent journaled it.
	code, out, _ = vipagent(t, "events", "list", "--config", cfg, "--agent", "http://"+other)
	if code != 0 || !strings.Contains(out, "RM1_Stopped") {
		t.Errorf("events list on the agent: exit %d\n%s", code, out)
	}
}
