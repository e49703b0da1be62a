package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
)

func TestPlan(t *testing.T) {
	disable := []reactions.Step{{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm1"}}
	enable := []reactions.Step{{Action: reactions.ActionEnable, VIP: "rm-vip", Node: "rm2"}}
	run := []reactions.Step{{Action: reactions.ActionRun, Command: "notify", Node: "rm1"}}
	rs := Rules{
		{Name: "stopped", Match: Match{Condition: []string{"RM1_Stopped", "RM1_Unexpected_Stop"}}, Steps: disable},
		{Name: "by-event", Match: Match{EventID: []string{"00-04504"}, Application: []string{"RM_*"}}, Steps: enable},
		{Name: "critical-on-rm2", Match: Match{Host: []string{"rm2"}, Severity: []string{"critical", "major"}}, Steps: run},
		{Name: "labels", Match: Match{Labels: map[string][]string{"team": {"voice"}, "site": {"par?"}}}, Steps: enable},
	}
	withCatchAll := append(append(Rules(nil), rs...), Rule{Name: "catch-all", Match: Match{Condition: []string{"*"}}, Steps: run})
	tests := []struct {
		name  string
		alarm reactions.Alarm
		want  string // reaction name, "" for no match
	}{
		{"condition exact", reactions.Alarm{Condition: "RM1_Stopped"}, "stopped"},
		{"condition from list", reactions.Alarm{Condition: "RM1_Unexpected_Stop"}, "stopped"},
		{"first match wins over catch-all", reactions.Alarm{Condition: "RM1_Stopped", Host: "rm2", Severity: "critical"}, "stopped"},
		{"event id and application wildcard", reactions.Alarm{EventID: "00-04504", Application: "RM_2"}, "by-event"},
		{"event id with other application", reactions.Alarm{EventID: "00-04504", Application: "SIPServer"}, ""},
		{"host and severity", reactions.Alarm{Host: "rm2", Severity: "major"}, "critical-on-rm2"},
		{"host with wrong severity", reactions.Alarm{Host: "rm2", Severity: "info"}, ""},
		{"labels all present", reactions.Alarm{Labels: map[string]string{"team": "voice", "site": "par1", "x": "y"}}, "labels"},
		{"label missing", reactions.Alarm{Labels: map[string]string{"team": "voice"}}, ""},
		{"label wrong value", reactions.Alarm{Labels: map[string]string{"team": "data", "site": "par1"}}, ""},
		{"unknown condition", reactions.Alarm{Condition: "Anything"}, ""},
		{"empty condition", reactions.Alarm{EventID: "1"}, ""},
		{"case matters", reactions.Alarm{Condition: "rm1_stopped"}, ""},
		{"wildcard crosses slashes", reactions.Alarm{EventID: "00-04504", Application: "RM_a/b"}, "by-event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, ok := rs.Plan(tt.alarm)
			if got := map[bool]string{true: plan.Reaction, false: ""}[ok]; got != tt.want {
				t.Errorf("Plan(%+v) = %q, want %q", tt.alarm, got, tt.want)
			}
			// A "*" rule at the end catches exactly what nothing else did,
			// empty fields included.
			wantAll := tt.want
			if wantAll == "" {
				wantAll = "catch-all"
			}
			plan, ok = withCatchAll.Plan(tt.alarm)
			if !ok || plan.Reaction != wantAll {
				t.Errorf("with catch-all: Plan(%+v) = %q, %v, want %q", tt.alarm, plan.Reaction, ok, wantAll)
			}
		})
	}
}

func TestPlanCopiesSteps(t *testing.T) {
	rs := Rules{{Name: "r", Match: Match{Condition: []string{"c"}}, Steps: []reactions.Step{{Action: reactions.ActionDisable, VIP: "v", Node: "n"}}}}
	p, _ := rs.Plan(reactions.Alarm{Condition: "c"})
	p.Steps[0].VIP = "changed"
	p2, _ := rs.Plan(reactions.Alarm{Condition: "c"})
	if diff := cmp.Diff(rs[0].Steps, p2.Steps); diff != "" {
		t.Errorf("rule steps changed through a plan (-want +got):\n%s", diff)
	}
}

func TestNoRules(t *testing.T) {
	if _, ok := Rules(nil).Plan(reactions.Alarm{Condition: "x"}); ok {
		t.Error("empty rule list matched")
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		p, v string
		want bool
	}{
		{"*", "", true}, {"*", "a/b c", true}, {"RM?_*", "RM1_Stopped", true}, {"RM?_*", "RM12_Stopped", false},
		{"*Stop", "RM1_Unexpected_Stop", true}, {"*Stop", "RM1_Stopped", false}, {"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false}, {"[x]", "[x]", true}, {"[x]", "x", false}, {"", "", true}, {"", "a", false},
	}
	for _, tt := range tests {
		if got := glob(tt.p, tt.v); got != tt.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tt.p, tt.v, got, tt.want)
		}
	}
}
