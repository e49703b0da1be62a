package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/config"
)

// withReaction is e2eConfig plus a reaction for the condition Brand_New.
func withReaction(body string) string {
	return strings.Replace(body, "reactions:\n", "reactions:\n  - name: brand-new\n    match: {condition: Brand_New}\n    steps: [{disable: rm-vip}]\n", 1)
}

// fireStatus posts an alarm to the agent at addr and returns the event's
// final status ("" after reporting an error: it may run in a goroutine).
func fireStatus(t *testing.T, addr, condition string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"condition": condition})
	resp, err := bounded.Post("http://"+addr+"/v1/alarms?wait=10s", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	var res struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Errorf("decode result (%s): %v", resp.Status, err)
	}
	return res.Status
}

// A reload applies what can change while serving (here a new reaction),
// keeps what cannot (the listen address, logged), refuses a configuration
// with a problem as a whole, and counts both.
func TestReloadAppliesRefusesAndKeeps(t *testing.T) {
	path, addr := agenttest.WriteConfig(t, e2eConfig)
	cfg, err := config.Load(path, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	var logs agenttest.Buffer
	log := zerolog.New(&logs)
	m, err := agent.Open(cfg, agent.Options{Logger: &log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Close(ctx)
	})
	if err := m.Serve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fireStatus(t, addr, "Brand_New"); got != "unmatched" {
		t.Fatalf("before the reload Brand_New is %q, want unmatched", got)
	}

	load := func(body string) *config.Config {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		// A config with problems comes back with them, as config check
		// sees it: Reload must find them itself.
		c, err := config.Load(path, os.Getenv)
		if c == nil {
			t.Fatal(err)
		}
		return c
	}
	orig, _ := os.ReadFile(path)
	// A reaction naming a VIP that does not exist: refused, nothing changes.
	bad := load(strings.Replace(withReaction(string(orig)), "steps: [{disable: rm-vip}]\n  - name: rm1-stopped", "steps: [{disable: no-such-vip}]\n  - name: rm1-stopped", 1))
	if err := m.Reload(bad, os.Getenv); !errors.Is(err, agent.ErrReloadRefused) {
		t.Fatalf("reload with an unknown vip: %v, want refused", err)
	}
	if got := fireStatus(t, addr, "Brand_New"); got != "unmatched" {
		t.Errorf("after a refused reload Brand_New is %q, want unmatched (old rules)", got)
	}

	next := load(strings.Replace(withReaction(string(orig)), "listen: "+addr, "listen: 127.0.0.1:1", 1))
	// Alarms keep coming while the configuration is swapped (the race
	// detector watches the swap); each ends matched under one config or
	// the other, never in between.
	var wg sync.WaitGroup
	statuses := make(chan string, 20)
	for range 20 {
		wg.Go(func() { statuses <- fireStatus(t, addr, "Brand_New") })
	}
	if err := m.Reload(next, os.Getenv); err != nil {
		t.Fatalf("reload: %v", err)
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != "unmatched" && st != "succeeded" {
			t.Errorf("an alarm during the reload ended %q", st)
		}
	}
	if got := fireStatus(t, addr, "Brand_New"); got != "succeeded" {
		t.Errorf("after the reload Brand_New is %q, want succeeded (new rule)", got)
	}
	if m.Current().Listen != addr {
		t.Errorf("listen became %q: it cannot change without a restart", m.Current().Listen)
	}
	for _, want := range []string{`"key":"listen"`, "cannot change without a restart", "configuration reloaded", "configuration reload refused", `unknown vip \"no-such-vip\"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	metrics := scrape(t, addr)
	for _, want := range []string{`vipagent_config_reloads_total{result="applied"} 1` + "\n", `vipagent_config_reloads_total{result="refused"} 1` + "\n"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// scrape is the agent's /metrics text.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := bounded.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s %v", resp.Status, err)
	}
	return string(b)
}
