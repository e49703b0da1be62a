package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
)

const rulesConfig = `
node: rm1
listen: 127.0.0.1:1
data_dir: %s
nodes:
  rm1: {member_id: 1, host: rm1, rm_application: RM_1}
  rm2: {member_id: 2, host: rm2, rm_application: RM_2, rm_address: "127.0.0.1:3", url: "http://127.0.0.1:2", token: "env:VIPAGENT_TEST_PEER"}
vips:
  rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake}
reactions:
  - name: by-label
    match: {condition: X, labels: {site: [paris]}}
    steps: [{disable: rm-vip}]
  - name: rm1-down
    match: {event_id: "00-04504", application: RM_1, severity: [critical]}
    steps:
      - {disable: rm-vip}
      - {enable: rm-vip, on: rm2, when: [rm_answers], force: true, timeout: 20s}
`

// rules test names the first rule that matches and its plan, reading only
// the config: nothing is contacted, no journal opened.
func TestRulesTest(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "vipagent.yaml")
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(rulesConfig, "%s", data)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		code int
		out  []string
		plan reactions.Plan
	}{
		{[]string{"--condition", "X", "--label", "site=paris"}, ExitOK,
			[]string{"rule by-label would run", "step 1: disable rm-vip on rm1 when previous_succeeded"},
			reactions.Plan{Reaction: "by-label", Steps: []reactions.Step{{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm1"}}}},
		{[]string{"--condition", "X", "--label", "site=lyon"}, ExitUnmatched, []string{"no rule matches"}, reactions.Plan{Steps: []reactions.Step{}}},
		{[]string{"--event-id", "00-04504", "--application", "RM_1", "--severity", "critical"}, ExitOK,
			[]string{"rule rm1-down would run", "step 2: enable rm-vip on rm2 when rm_answers, force, timeout 20s"},
			reactions.Plan{Reaction: "rm1-down", Steps: []reactions.Step{
				{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm1"},
				{Action: reactions.ActionEnable, VIP: "rm-vip", Node: "rm2", When: []reactions.Condition{reactions.WhenRMAnswers}, Force: true, Timeout: 20e9},
			}}},
		{[]string{"--event-id", "00-04504", "--application", "RM_1", "--severity", "minor"}, ExitUnmatched, []string{"no rule matches"}, reactions.Plan{Steps: []reactions.Step{}}},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			args := append([]string{"rules", "test", "--config", cfg}, tt.args...)
			code, out, errOut := runCLI(t, args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d:\n%s%s", code, tt.code, out, errOut)
			}
			for _, want := range tt.out {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			code, out, _ = runCLI(t, append(args, "--json")...)
			var v PlanView
			if err := json.Unmarshal([]byte(out), &v); err != nil || code != tt.code {
				t.Fatalf("--json: exit %d, %v:\n%s", code, err, out)
			}
			if diff := cmp.Diff(tt.plan, v.Plan); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("rules test created %s (%v): it must touch nothing", data, err)
	}
	code, _, errOut := runCLI(t, "rules", "test", "--config", cfg)
	if code != ExitUsage || !strings.Contains(errOut, "condition") {
		t.Errorf("rules test without an alarm: exit %d, want 2 saying what is needed:\n%s", code, errOut)
	}
}
