//go:build unix

package agent_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/reactions"
)

func TestGracefulShutdown(t *testing.T) {
	body := strings.Replace(faultConfig, "delay: 3ms}}\n  v1", "delay: 800ms}}\n  v1", 1)
	cfg, addr := agenttest.WriteConfig(t, body)
	a := agenttest.Start(t, binary, cfg, addr)
	id, code := post(http.DefaultClient, addr, `{"condition":"On-v0"}`)
	if code != http.StatusAccepted {
		t.Fatalf("slow alarm: %d", code)
	}
	waitStatus(t, addr, id, reactions.StatusRunning)
	start := time.Now()
	a.Cmd.Process.Signal(syscall.SIGTERM)
	// Intake is closed while the running step finishes.
	waitIntakeClosed(t, a)
	if err := a.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, a.Stderr)
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("stopped after %s: the running step was not allowed to finish", d)
	}
	agenttest.Start(t, binary, cfg, addr)
	ev := waitFinal(t, addr, []string{id})[id]
	if ev.Status != reactions.StatusSucceeded || ev.Runs != 1 {
		t.Errorf("event after graceful stop: %s runs %d", ev.Status, ev.Runs)
	}
}

func TestSecondSignalExitsAtOnce(t *testing.T) {
	body := strings.Replace(faultConfig, "delay: 3ms}}\n  v1", "hang: true}}\n  v1", 1)
	body += "step_timeout: 1m\n"
	cfg, addr := agenttest.WriteConfig(t, body)
	a := agenttest.Start(t, binary, cfg, addr)
	id, _ := post(http.DefaultClient, addr, `{"condition":"On-v0"}`)
	waitStatus(t, addr, id, reactions.StatusRunning)
	a.Cmd.Process.Signal(syscall.SIGTERM)
	waitIntakeClosed(t, a) // the first signal began the stop
	// The first signal also restores the default handling, on a goroutine
	// of its own that nothing outside can watch: signal again until the
	// process is gone. Without that restoring, it would wait for its step
	// for the 30 s of shutdown_grace, far beyond this bound.
	start := time.Now()
	agenttest.Eventually(t, 5*time.Second, func() bool {
		a.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-a.Exited():
			return true
		default:
			return false
		}
	}, "a second SIGTERM did not end the agent")
	t.Logf("exited %s after the second signal", time.Since(start))
	// The interrupted event is still in the journal and runs again.
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cfg, []byte(strings.Replace(string(data), "hang: true", "delay: 1ms", 1)), 0o600)
	agenttest.Start(t, binary, cfg, addr)
	ev := waitFinal(t, addr, []string{id})[id]
	if ev.Status != reactions.StatusSucceeded || ev.Runs != 2 {
		t.Errorf("after restart: %s runs %d", ev.Status, ev.Runs)
	}
}

// waitIntakeClosed returns once the agent refuses alarms with 503, as it
// does from the moment a stop begins. It fails when the agent is gone
// before it refused one: its intake never closed while work was running.
// The alarms it sends match no reaction.
func waitIntakeClosed(t *testing.T, a *agenttest.Agent) {
	t.Helper()
	last := 0
	agenttest.Eventually(t, 10*time.Second, func() bool {
		_, last = post(http.DefaultClient, a.Addr, `{"condition":"Nobody"}`)
		if last == 0 {
			t.Fatalf("the agent stopped answering before it refused an alarm with 503")
		}
		return last == http.StatusServiceUnavailable
	}, func() string { return fmt.Sprintf("alarms still answered %d after SIGTERM, want 503", last) })
}
