package agenttest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// ReadyWithin bounds how long Start waits for /readyz: long enough for a
// first start under Wine on a busy CI machine, and only a bound: Start
// returns as soon as the agent answers.
const ReadyWithin = 30 * time.Second

// FreeAddr returns a loopback host:port that was free when it was asked
// for, for an agent's listen address.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// WriteConfig writes an agent's configuration into a new temporary
// directory and returns the file's path and the agent's listen address.
// body is a format with two verbs: the listen address (a FreeAddr) and
// the data directory (beside the file), in that order.
func WriteConfig(t testing.TB, body string) (path, addr string) {
	t.Helper()
	dir := t.TempDir()
	addr = FreeAddr(t)
	path = filepath.Join(dir, "vipagent.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(body, addr, filepath.Join(dir, "data"))), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, addr
}

// Agent is a `vipagent serve` that Start started. It is killed when the
// test ends unless it has exited by then.
type Agent struct {
	// Addr is the API's host:port, Config the configuration file.
	Addr, Config string
	// Cmd is the process. Signal it through Cmd.Process; wait for it
	// with Wait, never Cmd.Wait (the Agent already waits on it).
	Cmd *exec.Cmd
	// Stderr is the agent's log (unless StartCmd's caller sent it
	// elsewhere); it is shown when the test fails.
	Stderr *Buffer

	exited  chan struct{}
	waitErr error
}

// Start runs `binary serve --config cfg extra...` and returns once the
// agent's /readyz at addr answers 200. It fails the test with the agent's
// log when the agent exits first or is not ready within ReadyWithin.
func Start(t testing.TB, binary, cfg, addr string, extra ...string) *Agent {
	t.Helper()
	a := StartCmd(t, exec.Command(binary, append([]string{"serve", "--config", cfg}, extra...)...), addr)
	a.Config = cfg
	return a
}

// StartCmd is Start for a `vipagent serve` command the caller prepared: run
// inside a network namespace (`ip netns exec`), from another directory, or
// with its standard error going elsewhere. Unless cmd.Stderr is set, the
// log goes to the Agent's Stderr.
func StartCmd(t testing.TB, cmd *exec.Cmd, addr string) *Agent {
	t.Helper()
	a := &Agent{
		Addr:   addr,
		Cmd:    cmd,
		Stderr: &Buffer{},
		exited: make(chan struct{}),
	}
	if a.Cmd.Stderr == nil {
		a.Cmd.Stderr = a.Stderr
	}
	if err := a.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		a.waitErr = a.Cmd.Wait()
		close(a.exited)
	}()
	t.Cleanup(func() {
		a.Kill()
		if t.Failed() {
			t.Logf("log of %s:\n%s", a.Cmd, a.Stderr)
		}
	})
	// A connection kept alive to an agent that is later killed is not
	// always reset under Wine: the probe opens a new one each time.
	probe := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var lastErr error
	ready := Poll(ReadyWithin, func() bool {
		select {
		case <-a.exited:
			t.Fatalf("vipagent serve exited before it was ready: %v\n%s", a.waitErr, a.Stderr)
		default:
		}
		resp, err := probe.Get(a.URL("/readyz"))
		if err != nil {
			lastErr = err
			return false
		}
		resp.Body.Close()
		lastErr = fmt.Errorf("/readyz answered %s", resp.Status)
		return resp.StatusCode == http.StatusOK
	})
	if !ready {
		t.Fatalf("vipagent serve not ready within %s: %v\n%s", ReadyWithin, lastErr, a.Stderr)
	}
	return a
}

// URL is the agent's API address with path appended.
func (a *Agent) URL(path string) string { return "http://" + a.Addr + path }

// Exited is closed once the process has exited.
func (a *Agent) Exited() <-chan struct{} { return a.exited }

// Wait waits for the process to exit and returns how it ended, as
// exec.Cmd.Wait does. It may be called any number of times.
func (a *Agent) Wait() error {
	<-a.exited
	return a.waitErr
}

// Kill kills the process (SIGKILL, TerminateProcess on Windows) and waits
// until it is gone. An agent that has exited is left as it is.
func (a *Agent) Kill() {
	select {
	case <-a.exited:
		return
	default:
	}
	_ = a.Cmd.Process.Kill()
	<-a.exited
}
