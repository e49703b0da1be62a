package report

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

const policyConfig = `
node: rm1
nodes: {rm1: {}}
callback_hosts: [ops.example]
reports:
  - name: all
    url: http://all.example/hook
  - name: failures
    url: http://failures.example/hook
    statuses: [failed, timeout]
  - name: detailed
    url: http://detailed.example/hook
    steps: true
`

func policyEvent(status reactions.Status, callback string, dryRun bool) *reactions.Event {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	return &reactions.Event{
		ID: "rm1-20250301T120000-000007", Node: "rm1", Source: reactions.SourceReplay, ReplayOf: "rm1-20250301T110000-000003",
		Alarm:      reactions.Alarm{ID: "scs-9", Condition: "RM1_Stopped", Host: "rm1", CallbackURL: callback},
		ReceivedAt: at, Status: status,
		Result: &reactions.Result{
			EventID: "rm1-20250301T120000-000007", Node: "rm1", Status: status, DryRun: dryRun, StartedAt: at, FinishedAt: at,
			Steps: []reactions.StepResult{{
				Index: 0, Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm1", Outcome: reactions.OutcomeFailed,
				Error:  "exit 1",
				Before: &reactions.VIPState{Present: true, Detail: "on eth0"},
				After:  &reactions.VIPState{Present: true, Detail: "still on eth0"},
				Exec:   &reactions.Exec{Argv: []string{"ip", "addr", "del"}, ExitCode: 1, Output: "RTNETLINK answers: Operation not permitted"},
			}},
		},
	}
}

func TestPolicyTargets(t *testing.T) {
	cfg := loadConfig(t, policyConfig, nil)
	policy := Policy(cfg)
	tests := []struct {
		name     string
		ev       *reactions.Event
		want     []string // target URL
		callback bool
	}{
		{"succeeded goes to targets without statuses", policyEvent(reactions.StatusSucceeded, "", false),
			[]string{"all http://all.example/hook", "detailed http://detailed.example/hook"}, false},
		{"failed also to the failures target", policyEvent(reactions.StatusFailed, "", false),
			[]string{"all http://all.example/hook", "failures http://failures.example/hook", "detailed http://detailed.example/hook"}, false},
		{"callback is added", policyEvent(reactions.StatusUnmatched, "http://ops.example/cb", false),
			[]string{"all http://all.example/hook", "detailed http://detailed.example/hook", "callback http://ops.example/cb"}, true},
		{"dry runs are not reported", policyEvent(reactions.StatusSucceeded, "http://ops.example/cb", true), nil, false},
		{"unfinished events are not reported", policyEvent(reactions.StatusRunning, "", false), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range policy(tt.ev) {
				got = append(got, r.Target+" "+r.URL)
				if r.ID != tt.ev.ID+":"+r.Target || r.EventID != tt.ev.ID {
					t.Errorf("report %s for target %s of event %s", r.ID, r.Target, r.EventID)
				}
				p := decodePayload(t, r.Body)
				if p.ReportID != r.ID || p.Event.ID != tt.ev.ID || p.Event.ReplayOf != tt.ev.ReplayOf || p.Result.Status != tt.ev.Status {
					t.Errorf("payload of %s: %+v", r.ID, p)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
		})
	}
}

// steps: true sends each step in full; without it the before/after state
// and the program's output are left out.
func TestPolicySteps(t *testing.T) {
	cfg := loadConfig(t, policyConfig, nil)
	ev := policyEvent(reactions.StatusFailed, "", false)
	got := map[string][]reactions.StepResult{}
	for _, r := range Policy(cfg)(ev) {
		got[r.Target] = decodePayload(t, r.Body).Result.Steps
	}
	if diff := cmp.Diff(ev.Result.Steps, got["detailed"]); diff != "" {
		t.Errorf("steps: true (-want +got):\n%s", diff)
	}
	summary := ev.Result.Steps[0]
	summary.Before, summary.After, summary.Exec = nil, nil, nil
	if diff := cmp.Diff([]reactions.StepResult{summary}, got["all"]); diff != "" {
		t.Errorf("steps: false (-want +got):\n%s", diff)
	}
	if ev.Result.Steps[0].Exec == nil {
		t.Errorf("the policy changed the event's own result")
	}
}

// Finishing an event again (recovery after a crash) adds no report.
func TestPolicyFinishTwice(t *testing.T) {
	cfg := loadConfig(t, policyConfig, nil)
	e := newEnv(t, cfg)
	ev := e.finish(reactions.StatusFailed, reactions.Alarm{Condition: "RM1_Stopped"})
	first, err := e.J.Reports(journal.ReportFilter{NewestFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	ev.Result.Notes = append(ev.Result.Notes, "finished again")
	if err := e.O.Finish(ev); err != nil {
		t.Fatal(err)
	}
	again, err := e.J.Reports(journal.ReportFilter{NewestFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 3 {
		t.Errorf("%d reports, want 3", len(first))
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("reports after finishing again (-want +got):\n%s", diff)
	}
}
