package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions"
)

// cmdRules is `rules test`: which rule an alarm matches under the config,
// and the plan it would run. It reads the config only: no agent, no
// journal, no backend.
func cmdRules(args []string, env Env) error {
	var c common
	fs := newFlags("rules", env, &c)
	a, labels := alarmFlags(fs)
	pos, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || pos[0] != "test" {
		return subcommandError("rules", first(pos), "test")
	}
	if len(pos) > 1 {
		return exitf(ExitUsage, "rules test: unexpected argument %q", pos[1])
	}
	if len(labels) > 0 {
		a.Labels = labels
	}
	if err := a.Validate(); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	cfg, err := config.Load(config.Choose(c.config, env.Stderr), env.Getenv)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	return printPlanOf(env, c.json, cfg, *a)
}

// alarmFlags are the flags that describe an alarm (fire, rules test).
func alarmFlags(fs *flag.FlagSet) (*reactions.Alarm, labelsFlag) {
	a := &reactions.Alarm{}
	labels := labelsFlag{}
	fs.StringVar(&a.Condition, "condition", "", "alarm condition `NAME`")
	fs.StringVar(&a.EventID, "event-id", "", "Genesys log event `ID` (such as 00-04504)")
	fs.StringVar(&a.Application, "application", "", "application `NAME`")
	fs.StringVar(&a.Host, "host", "", "host `NAME`")
	fs.StringVar(&a.Severity, "severity", "", "`SEVERITY`")
	fs.Var(labels, "label", "label `KEY=VALUE`")
	return a, labels
}

// PlanView is what `rules test --json` and the dry runs of fire and
// failover print: the rule that matched (none: matched false) and its plan.
type PlanView struct {
	Matched bool            `json:"matched"`
	Plan    reactions.Plan  `json:"plan"`
	Alarm   reactions.Alarm `json:"alarm,omitzero"`
}

// printPlanOf prints what the config's rules make of a.
func printPlanOf(env Env, asJSON bool, cfg *config.Config, a reactions.Alarm) error {
	p, ok := agent.Rules(cfg).Plan(a)
	v := PlanView{Matched: ok, Plan: p, Alarm: a}
	if v.Plan.Steps == nil {
		v.Plan.Steps = []reactions.Step{}
	}
	if err := printJSONOr(env, asJSON, v, func() { printPlan(env.Stdout, v) }); err != nil {
		return err
	}
	if !ok {
		return exitf(ExitUnmatched, "no reaction rule matches this alarm")
	}
	return nil
}

// printPlan prints a plan for people, one line per step.
func printPlan(w io.Writer, v PlanView) {
	if !v.Matched {
		fmt.Fprintln(w, "no rule matches: nothing would run")
		return
	}
	fmt.Fprintf(w, "rule %s would run (nothing was done):\n", safe(v.Plan.Reaction))
	for i, s := range v.Plan.Steps {
		what := s.VIP
		if s.Action == reactions.ActionRun {
			what = s.Command
		}
		line := fmt.Sprintf("  step %d: %s %s on %s", i+1, s.Action, what, s.Node)
		when := s.When
		if len(when) == 0 {
			when = []reactions.Condition{reactions.WhenPreviousSucceeded}
		}
		var ws []string
		for _, c := range when {
			ws = append(ws, string(c))
		}
		line += " when " + strings.Join(ws, " and ")
		if s.Force {
			line += ", force"
		}
		if s.Timeout > 0 {
			line += ", timeout " + s.Timeout.Round(time.Millisecond).String()
		}
		fmt.Fprintln(w, safe(line))
	}
}

func first(pos []string) string {
	if len(pos) == 0 {
		return ""
	}
	return pos[0]
}
