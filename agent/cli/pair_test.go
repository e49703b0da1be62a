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
		"disable on rm2 failed at 2026-11-30T07:00:00Z (event rm1-e1)",
		"disable changed at 2026-11-30T07:00:00Z (event rm2-e7)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
}
