package agent_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/journal/forensic"
	"github.com/vipagent/vipagent/reactions"
)

// The in-process path carries the command's deadline like the agent's
// door: the event it journals never starts after the command gave up (an
// event left unfinished is not run by the next start once it passed).
func TestInProcessRunCarriesTheDeadline(t *testing.T) {
	cfg, _ := agenttest.WriteConfig(t, e2eConfig)
	before := time.Now()
	code, out, errOut := vipagent(t, "failover", "disable", "--config", cfg, "--wait", "3s")
	after := time.Now()
	if code != 0 {
		t.Fatalf("failover disable in-process: exit %d\n%s%s", code, out, errOut)
	}
	j, err := forensic.Open(journal.PathIn(filepath.Join(filepath.Dir(cfg), "data")), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	evs, err := j.List(journal.Filter{Limit: 10})
	if err != nil || len(evs) != 1 {
		t.Fatalf("journal: %d events, %v; want 1", len(evs), err)
	}
	ev := evs[0]
	// The command's bound is its --wait plus a margin of a few seconds.
	if ev.Deadline.Before(before.Add(3*time.Second)) || ev.Deadline.After(after.Add(10*time.Second)) || ev.Status != reactions.StatusSucceeded {
		t.Errorf("in-process event: %s, deadline %s; want succeeded with a deadline %s after the command began", ev.Status, ev.Deadline, "3s+margin")
	}
}
