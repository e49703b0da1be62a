package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"

	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/agent/journal"
)

// vipStatusPair is `vipagent vip status --pair`: the local agent's view of
// every VIP on every node of the pair (it asks its peers). Exit 0 when every
// node answered and exactly one holds each VIP; 1 when the pair is wrong
// (a VIP on two nodes, or on none while every node answered); 4 when that
// cannot be said because a node could not be asked (down, unreachable, or
// no url configured, as in the built-in configuration).
func vipStatusPair(ctx context.Context, cl *client, env Env) error {
	code, body, err := cl.do(ctx, http.MethodGet, "/v1/pair", nil)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return apiError(code, body)
	}
	var v api.PairView
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("decode pair status: %w", err)
	}
	if cl.c.json {
		env.Stdout.Write(body)
	} else {
		printPair(env.Stdout, v)
	}
	return pairExit(v)
}

// pairExit is the exit code of a pair view (see vipStatusPair).
func pairExit(v api.PairView) error {
	if v.OK {
		return nil
	}
	var wrong, unknown []string
	for _, p := range v.VIPs {
		switch {
		case p.OK:
		case len(p.Holders) > 1 || len(p.Unknown) == 0:
			wrong = append(wrong, p.Name)
		default:
			unknown = append(unknown, p.Name+" (not known on "+strings.Join(p.Unknown, ", ")+")")
		}
	}
	if len(wrong) > 0 {
		return exitf(ExitFailed, "not exactly one holder for: %s", strings.Join(wrong, ", "))
	}
	return exitf(ExitNoAgent, "a node could not be asked, so one holder cannot be confirmed for: %s", strings.Join(unknown, "; "))
}

// lastAction describes the last step a node's journal holds for a VIP. A
// node journals the steps its own events sent to the other node too (a
// `failover enable 2` run on rm1 disables on rm2), so the step's node is
// named when it is not the row's.
func lastAction(row string, la *journal.LastAction) string {
	where := ""
	if la.Step.Node != "" && la.Step.Node != row {
		where = " on " + safe(la.Step.Node)
	}
	return fmt.Sprintf("%s%s %s at %s (event %s)", safe(string(la.Step.Action)), where, safe(string(la.Step.Outcome)), timeUTC(la.Step.StartedAt), safe(la.EventID))
}

func printPair(w io.Writer, v api.PairView) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VIP\tNODE\tPRESENT\tOBSERVED AT\tLAST ACTION")
	for _, r := range v.Rows {
		present, at, last := "unknown", "-", "-"
		if r.Present != nil {
			present = map[bool]string{true: "yes", false: "no"}[*r.Present]
		}
		if r.ObservedAt != nil {
			at = timeUTC(*r.ObservedAt)
		}
		if la := r.LastAction; la != nil {
			last = lastAction(r.Node, la)
		}
		if r.Error != "" {
			last = "error: " + safe(r.Error)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", safe(r.VIP), safe(r.Node), present, at, last)
	}
	tw.Flush()
	for _, p := range v.VIPs {
		var verdict string
		switch {
		case len(p.Unknown) > 0:
			verdict = fmt.Sprintf("PROBLEM: not known on %s; held by %s", safeJoin(p.Unknown), holders(p.Holders))
		case len(p.Holders) == 1:
			verdict = "OK: held by " + safe(p.Holders[0]) + " only"
		case len(p.Holders) == 0:
			verdict = "PROBLEM: on no node"
		default:
			verdict = "PROBLEM: on " + fmt.Sprint(len(p.Holders)) + " nodes at once: " + safeJoin(p.Holders)
		}
		fmt.Fprintf(w, "%s: %s\n", safe(p.Name), verdict)
	}
}

func holders(h []string) string {
	if len(h) == 0 {
		return "no other node"
	}
	return safeJoin(h)
}

func safeJoin(names []string) string {
	var out []string
	for _, n := range names {
		out = append(out, safe(n))
	}
	return strings.Join(out, ", ")
}
