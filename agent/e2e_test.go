package agent_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/reactions"
)

// binary is the vipagent executable built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vipagent-e2e-")
	if err != nil {
		panic(err)
	}
	// Under Wine there is no go command: scripts/test-windows.sh builds
	// vipagent.exe beforehand and names it in VIPAGENT_EXE.
	binary, err = agenttest.Build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// e2eConfig is the agent most end-to-end tests start.
const e2eConfig = agenttest.SingleNode

// vipagent runs the CLI and returns its exit code and output.
func vipagent(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// bounded is the tests' HTTP client: no request to an agent waits forever.
var bounded = &http.Client{Timeout: 30 * time.Second}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := bounded.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, b)
	}
	return resp.StatusCode
}

func TestEndToEndCrashAndRecover(t *testing.T) {
	cfg, addr := agenttest.WriteConfig(t, e2eConfig)
	a := agenttest.Start(t, binary, cfg, addr, "-host", "lcahost", "-port", "4999", "-app", "VIPAgent_rm1")

	// fire, as an SCS reaction runs it: Genesys arguments mixed in anywhere.
	code, out, errOut := vipagent(t, "fire", "-host", "scshost", "--condition", "RM1_Stopped", "-app", "VIPAgent_RM1_Stopped",
		"--config", cfg, "-port", "3000", "--id", "scs-1", "-backup_host", "b", "-backup_port", "1", "-lmspath", "/x", "--json")
	if code != 0 {
		t.Fatalf("fire exited %d: %s %s", code, out, errOut)
	}
	var res reactions.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Status != reactions.StatusSucceeded || res.Steps[0].Outcome != reactions.OutcomeChanged {
		t.Fatalf("fire result %v: %s", err, out)
	}
	var ev reactions.Event
	getJSON(t, "http://"+addr+"/v1/events/"+res.EventID, &ev)
	want := map[string]string{"host": "scshost", "app": "VIPAgent_RM1_Stopped", "port": "3000", "backup_host": "b", "backup_port": "1", "lmspath": "/x"}
	for k, v := range want {
		if ev.GenesysArgs[k] != v {
			t.Errorf("genesys arg %s = %q, want %q (all: %v)", k, ev.GenesysArgs[k], v, ev.GenesysArgs)
		}
	}
	if ev.Source != reactions.SourceCLI {
		t.Errorf("source %s, want cli", ev.Source)
	}

	// A repeat is answered from the journal.
	code, out, _ = vipagent(t, "fire", "--condition", "RM1_Stopped", "--id", "scs-1", "--config", cfg)
	if code != 0 || !strings.Contains(out, "duplicate") {
		t.Errorf("repeat: exit %d: %s", code, out)
	}
	// Exit codes say what happened.
	if code, out, _ = vipagent(t, "fire", "--condition", "Nobody", "--config", cfg); code != 3 {
		t.Errorf("unmatched: exit %d, want 3: %s", code, out)
	}
	if code, _, errOut = vipagent(t, "fire", "--config", cfg); code != 2 || !strings.Contains(errOut, "needs condition") {
		t.Errorf("no condition: exit %d, want 2: %s", code, errOut)
	}
	if code, _, errOut = vipagent(t, "fire", "--condition", "a\x01b", "--config", cfg); code != 2 {
		t.Errorf("control character: exit %d, want 2: %s", code, errOut)
	}

	// Accept a burst of slow events over HTTP without waiting, then kill
	// the agent while they run.
	var accepted []string
	for i := range 12 {
		body := fmt.Sprintf(`{"condition":"Flap","id":"burst-%d"}`, i)
		resp, err := http.Post("http://"+addr+"/v1/alarms?wait=0s", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var acc map[string]any
		json.NewDecoder(resp.Body).Decode(&acc)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("burst %d: %d %v", i, resp.StatusCode, acc)
		}
		accepted = append(accepted, acc["event_id"].(string))
	}
	// Kill the agent while the first event is mid-run (its steps take
	// 150 ms each), so the restart has one to resume and others to start.
	waitStatus(t, addr, accepted[0], reactions.StatusRunning)
	a.Kill()

	// While the agent is down, fire falls back to running in-process.
	code, out, errOut = vipagent(t, "fire", "--condition", "RM1_Unexpected_Stop", "--config", cfg)
	if code != 0 || !strings.Contains(errOut, "no agent answered") || !strings.Contains(out, "unchanged") {
		t.Errorf("fallback: exit %d\n%s\n%s", code, out, errOut)
	}

	a = agenttest.Start(t, binary, cfg, addr)
	resumed := 0
	for _, id := range accepted {
		var ev reactions.Event
		agenttest.Eventually(t, 20*time.Second, func() bool {
			getJSON(t, a.URL("/v1/events/"+id), &ev)
			return ev.Status.Final()
		}, func() string { return fmt.Sprintf("event %s lost after restart: status %s", id, ev.Status) })
		if ev.Status != reactions.StatusSucceeded {
			t.Errorf("event %s ended %s: %+v", id, ev.Status, ev.Result)
		}
		if ev.Runs > 1 {
			resumed++
			if ev.Result == nil || len(ev.Result.Notes) == 0 {
				t.Errorf("event %s ran %d times but its result has no note saying it was resumed", id, ev.Runs)
			}
		}
	}
	// The first event was running when the agent died: it must have been
	// resumed, not lost and not restarted from nothing.
	var first reactions.Event
	getJSON(t, "http://"+addr+"/v1/events/"+accepted[0], &first)
	if first.Runs < 2 {
		t.Errorf("event %s was running at the kill but ran %d time(s): it was not resumed as interrupted", accepted[0], first.Runs)
	}
	if resumed == 0 {
		t.Error("no event was resumed after the kill")
	}

	// The CLI reads the journal through the agent.
	code, out, _ = vipagent(t, "events", "list", "--limit", "100", "--config", cfg)
	if code != 0 || strings.Count(out, "\n") < len(accepted)+3 {
		t.Errorf("events list: exit %d\n%s", code, out)
	}
	code, out, _ = vipagent(t, "replay", res.EventID, "--dry-run", "--config", cfg)
	if code != 0 || !strings.Contains(out, "dry run") {
		t.Errorf("replay --dry-run: exit %d\n%s", code, out)
	}
	code, out, _ = vipagent(t, "replay", res.EventID, "--config", cfg)
	if code != 0 || !strings.Contains(out, "replay of: "+res.EventID) {
		t.Errorf("replay: exit %d\n%s", code, out)
	}
	code, out, _ = vipagent(t, "vip", "status", "--config", cfg)
	if code != 0 || !strings.Contains(strings.Join(strings.Fields(out), " "), "rm-vip rm1 no 192.0.2.100/24 eth0 fake") {
		t.Errorf("vip status: exit %d\n%s", code, out)
	}

	// A graceful stop exits 0 (where the system has one: see stop).
	if err := stop(a); err != nil && gracefulStop {
		t.Errorf("graceful stop: %v\n%s", err, a.Stderr.String())
	}
}

func TestNoAgentAndJournalHeld(t *testing.T) {
	cfg, addr := agenttest.WriteConfig(t, e2eConfig)
	// The agent listens elsewhere than the config says and holds the
	// journal (as a hung agent would): nothing answers at the config's
	// address, and the journal stays in use. The command waits for it a
	// little (another one-shot command would let go), then the failover
	// still happens, loudly unjournaled, with a record beside the journal.
	other := agenttest.FreeAddr(t)
	agenttest.Start(t, binary, cfg, other, "--listen", other)
	start := time.Now()
	code, _, errOut := vipagent(t, "fire", "--condition", "RM1_Stopped", "--config", cfg, "--wait", "1s")
	if code != 0 || !strings.Contains(errOut, "in use by another vipagent process") || !strings.Contains(errOut, "NOT journaled") {
		t.Errorf("exit %d, want 0 with the journal held: %s", code, errOut)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("took %s, want about the connection attempt, 2 s for the lock and the step", took)
	}
	rec, err := os.ReadFile(filepath.Join(filepath.Dir(cfg), "data", "unjournaled.log"))
	if err != nil || !strings.Contains(string(rec), `"action":"disable","vip":"rm-vip"`) {
		t.Errorf("unjournaled record: %v %s", err, rec)
	}
	// An agent named explicitly that does not answer is exit 4 at once.
	code, _, errOut = vipagent(t, "fire", "--condition", "RM1_Stopped", "--config", cfg, "--agent", "http://"+addr)
	if code != 4 || !strings.Contains(errOut, "not running in-process because the agent was named explicitly") {
		t.Errorf("explicit agent: exit %d, want 4: %s", code, errOut)
	}
}

// RM runs the failover hook in its own environment, without LCA's
// variables: a command needs only the secrets it uses, and says which one
// is missing and how to provide it when it does need it.
func TestHookNeedsOnlyItsSecrets(t *testing.T) {
	cfgBody := strings.Replace(e2eConfig, "  rm1: {member_id: 1, host: rm1, rm_application: RM_1}",
		"  rm1: {member_id: 1, host: rm1, rm_application: RM_1}\n  rm2: {member_id: 2, url: 'http://127.0.0.1:1', token: 'env:VIPAGENT_TEST_UNSET_PEER_TOKEN'}", 1)
	cfgBody += "failover: {vips: [rm-vip]}\n"
	cfg, _ := agenttest.WriteConfig(t, cfgBody)
	code, out, errOut := vipagent(t, "failover", "disable", "1", "--config", cfg)
	if code != 0 || !strings.Contains(out, "disable rm-vip on rm1 [fake]: changed") {
		t.Errorf("local disable without the peer's secret: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = vipagent(t, "failover", "enable", "2", "--config", cfg)
	if code != 1 || !strings.Contains(out, "nodes.rm2.token: env:VIPAGENT_TEST_UNSET_PEER_TOKEN") || !strings.Contains(out, "use file:") {
		t.Errorf("a step on rm2 must name the missing secret: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = vipagent(t, "serve", "--config", cfg)
	if code != 2 || !strings.Contains(errOut, "nodes.rm2.token") {
		t.Errorf("serve without a secret it needs: exit %d, want 2: %s", code, errOut)
	}
}

// waitStatus returns once event id has status want, polling the agent's
// API; the test fails after 10 s.
func waitStatus(t *testing.T, addr, id string, want reactions.Status) {
	t.Helper()
	var ev reactions.Event
	agenttest.Eventually(t, 10*time.Second, func() bool {
		getJSON(t, "http://"+addr+"/v1/events/"+id, &ev)
		if ev.Status != want && ev.Status.Final() {
			t.Fatalf("event %s ended %s, waited for %s", id, ev.Status, want)
		}
		return ev.Status == want
	}, func() string { return fmt.Sprintf("event %s is %s, waited for %s", id, ev.Status, want) })
}
