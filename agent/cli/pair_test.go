package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

// A row's LAST ACTION names the node a step ran on when it is not the
// row's: rm1's journal holds the disable its failover sent to rm2.
func TestPairLastActionNamesItsNode(t *testing.T) {
	at := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	yes, no := true, false
	rows := []api.PairRow{
		{VIP: "rm-vip", Node: "rm1", Present: &yes, LastAction: &journal.LastAction{EventID: "rm1-e1",
			Step: reactions.StepResult{Action: reactions.ActionDisable, Node: "rm2", Outcome: reactions.OutcomeFailed, StartedAt: at}}},
		{VIP: "rm-vip", Node: "rm2", Present: &no, LastAction: &journal.LastAction{EventID: "rm2-e7",
			Step: reactions.StepResult{Action: reactions.ActionDisable, Node: "rm2", Outcome: reactions.OutcomeChanged, StartedAt: at}}},
	}
	var out bytes.Buffer
	printPair(&out, api.NewPairView("rm1", rows))
	for _, want := range []string{
		"disable on rm2 failed at 2026-11-30T07:00:00.000Z (event rm1-e1)",
		"disable changed at 2026-11-30T07:00:00.000Z (event rm2-e7)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
}

// vip status --pair's exit code: 0 one holder everywhere, 1 a wrong pair
// (two holders, or none while every node answered), 4 a node that could
// not be asked (the built-in configuration's rm2 has no url).
func TestPairExitCodes(t *testing.T) {
	yes, no := true, false
	row := func(node string, present *bool) api.PairRow {
		r := api.PairRow{VIP: "rm-vip", Node: node, Present: present}
		if present == nil {
			r.Error = node + " has no url (nodes." + node + ".url)"
		}
		return r
	}
	for _, tt := range []struct {
		name string
		rows []api.PairRow
		code int
	}{
		{"one holder", []api.PairRow{row("rm1", &yes), row("rm2", &no)}, ExitOK},
		{"two holders", []api.PairRow{row("rm1", &yes), row("rm2", &yes)}, ExitFailed},
		{"no holder", []api.PairRow{row("rm1", &no), row("rm2", &no)}, ExitFailed},
		{"two holders and one unknown", []api.PairRow{row("rm1", &yes), row("rm2", &yes), row("rm3", nil)}, ExitFailed},
		{"peer not asked", []api.PairRow{row("rm1", &yes), row("rm2", nil)}, ExitNoAgent},
		{"none here, peer not asked", []api.PairRow{row("rm1", &no), row("rm2", nil)}, ExitNoAgent},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(pairExit(api.NewPairView("rm1", tt.rows))); got != tt.code {
				t.Errorf("exit %d, want %d", got, tt.code)
			}
		})
	}
}
