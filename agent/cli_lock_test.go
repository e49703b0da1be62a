package agent_test

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
	// The agent's address starts answering once the command says it
	// found nobody there and goes in-process: while it waits for the
	// journal the agent holds.
	stderr := &announcement{want: "running in-process", seen: make(chan struct{})}
	go func() {
		select {
		case <-stderr.seen:
		case <-time.After(30 * time.Second):
			t.Error("the command never said it was going in-process")
			return
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen at the config's address: %v", err)
			return
		}
		srv.Serve(ln)
	}()
	cmd := exec.Command(binary, "fire", "--condition", "RM1_Stopped", "--config", cfg, "--wait", "5s")
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	out, errOut := stdout.String(), stderr.String()
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

// announcement is a command's stderr that closes seen once it has printed
// want.
type announcement struct {
	agenttest.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (a *announcement) Write(p []byte) (int, error) {
	n, err := a.Buffer.Write(p)
	if strings.Contains(a.Buffer.String(), a.want) {
		a.once.Do(func() { close(a.seen) })
	}
	return n, err
}
