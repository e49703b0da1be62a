package agent_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// faultListener is something at the agent's address that is not a working
// agent: each connection is served by serve, after the request's header
// was read.
func faultListener(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close(); wg.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				go func() { <-done; c.Close() }()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// stall writes head, then one byte of filler per interval (or nothing,
// with interval 0) until the connection goes.
func stall(head string, interval time.Duration) func(net.Conn) {
	return func(c net.Conn) {
		c.Write([]byte(head))
		if interval == 0 {
			io.Copy(io.Discard, c)
			return
		}
		for {
			// The slowness is the behaviour under test: a server that
			// trickles its answer.
			time.Sleep(interval)
			if _, err := c.Write([]byte("X-Filler: a\r\n")[:1]); err != nil {
				return
			}
		}
	}
}

// Every command that talks to an agent ends within its bound (--wait plus
// 2 s, or 10 s plus 2 s) with exit 4 and the address when what answers at
// the agent's address is not a working agent, and never falls back to an
// in-process run there: whatever took the connection may be acting on the
// request.
func TestCLIBoundedAgainstBrokenAgents(t *testing.T) {
	deadPort := agenttest.FreeAddr(t)
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	endless := func(c net.Conn) {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[")
		buf := []byte(strings.Repeat("1,", 32<<10))
		for {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}
	commands := [][]string{
		{"fire", "--condition", "RM1_Stopped", "--wait", "1s"},
		{"failover", "enable", "1", "--wait", "1s"},
		{"failover", "disable", "--wait", "1s"},
		{"replay", "rm1-x", "--wait", "1s"},
		{"vip", "status", "--wait", "1s"},
		{"vip", "status", "--pair", "--wait", "1s"},
		{"vip", "enable", "rm-vip", "--wait", "1s"},
		{"vip", "disable", "rm-vip", "--wait", "1s"},
		{"events", "list"},
		{"events", "show", "rm1-x"},
		{"reports", "list"},
		{"reports", "retry", "r1"},
	}
	faults := []struct {
		name  string
		url   string
		slow  bool // takes the whole bound: only the commands with --wait
		wants string
	}{
		{"accepts, never answers", "http://" + faultListener(t, stall("", 0)), true, "did not answer within 3s"},
		{"headers, then a stalled body", "http://" + faultListener(t, stall("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{", 0)), true, "did not answer within 3s"},
		{"a byte a second", "http://" + faultListener(t, stall("HTTP/1.1 200 OK\r\n", time.Second)), true, "did not answer within 3s"},
		{"an endless body", "http://" + faultListener(t, endless), false, "answer larger than the limit"},
		{"a redirect to a dead port", "http://" + faultListener(t, func(c net.Conn) {
			fmt.Fprintf(c, "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://%s/v1/alarms\r\nContent-Length: 0\r\n\r\n", deadPort)
		}), false, "a redirect (307), which is not followed"},
		{"a redirect loop", "http://" + faultListener(t, func(c net.Conn) {
			fmt.Fprintf(c, "HTTP/1.1 302 Found\r\nLocation: /v1/loop\r\nContent-Length: 0\r\n\r\n")
		}), false, "a redirect (302)"},
		{"closes after the request", "http://" + faultListener(t, func(net.Conn) {}), false, "did not answer: EOF"},
		{"not JSON", "http://" + faultListener(t, func(c net.Conn) {
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
		}), false, `body that is not JSON: "hello"`},
		{"plain HTTP to a TLS port", "http://" + tlsSrv.Listener.Addr().String(), false, "not as a vipagent agent"},
		{"TLS to a plain HTTP port", "https://" + faultListener(t, func(c net.Conn) {
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
		}), false, "did not answer"},
	}
	for _, f := range faults {
		f := f
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			cfg, _ := agenttest.WriteConfig(t, e2eConfig)
			addr := strings.TrimPrefix(strings.TrimPrefix(f.url, "http://"), "https://")
			// The bound is on the command's waiting, not on starting a
			// process (seconds under Wine on a busy machine): what a
			// command that waits for nothing takes here is allowed on top.
			start := time.Now()
			vipagent(t, "version")
			startup := time.Since(start)
			for _, args := range commands {
				if f.slow && !contains(args, "--wait") {
					continue
				}
				start := time.Now()
				code, _, errOut := vipagent(t, append(args, "--config", cfg, "--agent", f.url)...)
				took := time.Since(start)
				bound := 3 * time.Second
				if !contains(args, "--wait") {
					bound = 12 * time.Second
				}
				if code != 4 || !strings.Contains(errOut, addr) || !strings.Contains(errOut, f.wants) {
					t.Errorf("%v: exit %d, want 4 naming %s and %q:\n%s", args, code, addr, f.wants, errOut)
				}
				if took > bound+2*time.Second+2*startup {
					t.Errorf("%v: took %s, bound %s (a command that waits for nothing took %s)", args, took, bound, startup)
				}
				if strings.Count(errOut, "\n") > 3 || len(errOut) > 2000 {
					t.Errorf("%v: %d bytes of error", args, len(errOut))
				}
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "data")); err == nil {
				t.Errorf("an in-process run happened beside something that took the connection")
			}
		})
	}
	// Without --agent the same holds: only a connection nobody takes
	// falls back to an in-process run.
	redirect := faultListener(t, func(c net.Conn) {
		fmt.Fprintf(c, "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://%s/v1/alarms\r\nContent-Length: 0\r\n\r\n", deadPort)
	})
	cfg, _ := agenttest.WriteConfig(t, strings.Replace(e2eConfig, "listen: %s", "listen: "+redirect+"\n# %s", 1))
	code, _, errOut := vipagent(t, "fire", "--condition", "RM1_Stopped", "--config", cfg, "--wait", "1s")
	if code != 4 || strings.Contains(errOut, "running in-process on") {
		t.Errorf("redirect to a dead port from the config's agent: exit %d, want 4 without an in-process run:\n%s", code, errOut)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// With no agent, two one-shot commands for the same alarm at the same
// time serialize on the journal: the later one waits for the lock and
// answers from the journal, never running the alarm again beside the
// first on a scratch journal.
func TestInProcessRunsWaitForTheJournal(t *testing.T) {
	body := strings.Replace(e2eConfig, "options: {delay: 150ms}", "options: {delay: 1000ms, initial: present}", 1)
	body = strings.Replace(body, "limits:\n", "  - name: slow\n    match: {condition: Slow}\n    steps: [{disable: slow-vip}]\nlimits:\n", 1)
	cfg, _ := agenttest.WriteConfig(t, body)
	type run struct {
		code        int
		out, errOut string
	}
	runs := make([]run, 2)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &runs[i]
			r.code, r.out, r.errOut = vipagent(t, "fire", "--condition", "Slow", "--id", "same-alarm", "--config", cfg, "--wait", "10s")
		}()
		// A head start, not a wait for anything: the second command
		// arrives while the first holds the journal for its 1 s step,
		// well inside the 2 s a command waits for a held journal. Any
		// order must give exactly one duplicate.
		time.Sleep(300 * time.Millisecond)
	}
	wg.Wait()
	dups := 0
	for i, r := range runs {
		if r.code != 0 || strings.Contains(r.errOut, "NOT journaled") {
			t.Errorf("run %d: exit %d, want 0 and journaled:\n%s%s", i, r.code, r.out, r.errOut)
		}
		if strings.Contains(r.out, "duplicate: answered from the journal") {
			dups++
		}
	}
	if dups != 1 {
		t.Errorf("%d of 2 answered from the journal, want exactly 1:\n%s\n%s", dups, runs[0].out, runs[1].out)
	}
}

// The CLI talks to its own agent over HTTPS, with client certificates
// required (mTLS), using the config's tls.ca and tls.cert as a peer would.
func TestCLIOverMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := writeCA(t, dir, "rm1")
	body := strings.Replace(e2eConfig, "log:\n", "tls: {cert: "+cert+", key: "+key+", ca: "+ca+", client_ca: "+ca+"}\nlog:\n", 1)
	cfg, addr := agenttest.WriteConfig(t, body)
	a := exec.Command(binary, "serve", "--config", cfg)
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Process.Kill(); a.Wait() })
	var code int
	var out, errOut string
	agenttest.Eventually(t, 10*time.Second, func() bool {
		// --agent: no in-process answer while the agent starts.
		code, out, errOut = vipagent(t, "vip", "status", "rm-vip", "--config", cfg, "--wait", "2s", "--agent", "https://"+addr)
		return code == 0 && strings.Contains(strings.Join(strings.Fields(out), " "), "rm-vip rm1 yes 192.0.2.100/24 eth0 fake")
	}, func() string {
		return fmt.Sprintf("vip status over mTLS at %s: exit %d\n%s%s", addr, code, out, errOut)
	})
	code, out, errOut = vipagent(t, "fire", "--condition", "RM1_Stopped", "--config", cfg, "--wait", "5s")
	if code != 0 || !strings.Contains(out, "changed (present -> absent)") || strings.Contains(errOut, "in-process") {
		t.Errorf("fire over mTLS: exit %d\n%s%s", code, out, errOut)
	}
}

// An in-process run answers every command as the agent would, replay (a
// POST without a body) included.
func TestInProcessReplay(t *testing.T) {
	cfg, _ := agenttest.WriteConfig(t, e2eConfig)
	code, out, errOut := vipagent(t, "fire", "--condition", "RM1_Stopped", "--config", cfg, "--json")
	var res struct {
		EventID string `json:"event_id"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.EventID == "" {
		t.Fatalf("fire: exit %d\n%s%s", code, out, errOut)
	}
	for _, args := range [][]string{{"replay", res.EventID, "--dry-run"}, {"replay", res.EventID}} {
		code, out, errOut := vipagent(t, append(args, "--config", cfg)...)
		if code != 0 || !strings.Contains(out, "step 0: disable rm-vip on rm1") || strings.Contains(errOut, "panic") {
			t.Errorf("%v in-process: exit %d\n%s%s", args, code, out, errOut)
		}
	}
}
