//go:build unix

package agent_test

import (
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
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	a.Cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(100 * time.Millisecond)
	// Intake is closed while the running step finishes.
	if _, code := post(http.DefaultClient, addr, `{"condition":"On-v1"}`); code != http.StatusServiceUnavailable {
		t.Errorf("alarm during shutdown: %d, want 503", code)
	}
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
	time.Sleep(100 * time.Millisecond)
	a.Cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	a.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- a.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("second SIGTERM did not end the agent")
	}
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
