package cli

import (
	"context"
	"flag"
	"net/http"
	"strconv"
	"time"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions"
)

// cmdFailover is RM's failoverscript hook, with the NLB.bat calling
// convention: `enable X` makes member X the only holder of the failover
// VIPs, `disable` releases them on this host.
func cmdFailover(ctx context.Context, args []string, gargs map[string]string, env Env) error {
	var c common
	fs := newFlags("failover", env, &c)
	wait := durationVar(fs, "wait", 2*time.Minute, "how long to wait for the result; without it, also long enough for the config's move (each node's step within its VIP's timeout, plus 10s)")
	// vipagent's own flags are taken anywhere; after the action, other
	// words (RM's) are positional, journaled rather than refused.
	pos, err := parseArgs(fs, env, args, true)
	if err != nil {
		return err
	}
	if len(pos) < 1 || (pos[0] != "enable" && pos[0] != "disable") {
		return subcommandError("failover", first(pos), "enable", "disable")
	}
	req := map[string]any{"action": pos[0], "genesys_args": gargs}
	member := 0
	if len(pos) >= 2 {
		if member, err = parseMemberID(pos[1]); err != nil {
			return err
		}
		req["member_id"] = member
	}
	if c.dryRun {
		return failoverDryRun(env, c, pos[0], member)
	}
	cl, err := newClient(c, env, *wait, config.RoleTrigger, config.RoleAdmin)
	if err != nil {
		return err
	}
	if !flagGiven(fs, "wait") {
		// The default covers the config's move: every node's step, each
		// within its VIP's timeout, and a margin for the calls between.
		if b := agent.FailoverBound(cl.cfg) + failoverMargin; b > *wait {
			*wait = b
			cl.wait = b
		}
	}
	defer cl.close()
	if len(pos) > 2 {
		// Whatever RM adds after the member ID is journaled, not refused.
		req["extra_args"] = pos[2:]
	}
	code, resp, err := cl.do(ctx, http.MethodPost, "/v1/failover?wait="+wait.String(), req)
	if err != nil {
		return err
	}
	return cl.printResult(code, resp)
}

// failoverMargin is what the default wait of `failover` adds to the
// move's steps: peer calls and journal commits between them.
const failoverMargin = 10 * time.Second

// flagGiven reports whether the command line set flag name.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// failoverDryRun prints the plan the failover door would make, from the
// config alone.
func failoverDryRun(env Env, c common, action string, member int) error {
	cfg, err := loadConfig(c, env)
	if err != nil {
		return err
	}
	p, err := agent.Failover(cfg).Plan(action, member)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if p.Steps == nil {
		p.Steps = []reactions.Step{}
	}
	v := PlanView{Matched: true, Plan: p}
	return printJSONOr(env, c.json, v, func() { printPlan(env.Stdout, v) })
}

// parseMemberID reads RM's mymemberid as RM writes it: decimal digits, no
// sign, no leading zero (Atoi alone would take "+1" and "01" as member 1,
// which Genesys' NLB.bat, comparing strings, would not).
func parseMemberID(s string) (int, error) {
	bad := exitf(ExitUsage, "failover: MEMBERID must be a positive number such as 1 or 2, got %q", s)
	if s == "" || len(s) > 9 || s[0] == '0' {
		return 0, bad
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, bad
		}
	}
	id, err := strconv.Atoi(s)
	if err != nil {
		return 0, bad
	}
	return id, nil
}
