//go:build unix

package agent_test

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// waitMetric scrapes until the metrics hold line, within 10 s: the agent
// is another process, so its reload is seen only through what it serves.
func waitMetric(t *testing.T, addr, line string) {
	t.Helper()
	agenttest.Eventually(t, 10*time.Second, func() bool {
		return strings.Contains(scrape(t, addr), line+"\n")
	}, "metrics never held %q", line)
}

// SIGHUP makes a real serve process read its config again: a valid one
// applies (a new reaction answers), a broken one is refused and the agent
// goes on with the old; neither stops it, and both are logged.
func TestSIGHUPReloads(t *testing.T) {
	cfg, addr := agenttest.WriteConfig(t, e2eConfig)
	p := agenttest.Start(t, binary, cfg, addr)
	orig, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := fireStatus(t, addr, "Brand_New"); got != "unmatched" {
		t.Fatalf("before SIGHUP Brand_New is %q, want unmatched", got)
	}
	hup := func(body string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := p.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	hup(withReaction(string(orig)))
	waitMetric(t, addr, `vipagent_config_reloads_total{result="applied"} 1`)
	if got := fireStatus(t, addr, "Brand_New"); got != "succeeded" {
		t.Errorf("after SIGHUP Brand_New is %q, want succeeded", got)
	}
	hup(withReaction(string(orig)) + "\nlisen: typo\n")
	waitMetric(t, addr, `vipagent_config_reloads_total{result="refused"} 1`)
	if got := fireStatus(t, addr, "Brand_New"); got != "succeeded" {
		t.Errorf("after a refused reload Brand_New is %q, want succeeded (kept)", got)
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Errorf("agent ended with %v after SIGTERM, want exit 0:\n%s", err, p.Stderr)
	}
	for _, want := range []string{"SIGHUP: reading the configuration again", "configuration reloaded", "configuration reload refused", "lisen"} {
		if !strings.Contains(p.Stderr.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, p.Stderr)
		}
	}
}
