package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/agent/journal"
)

// vipStatusPair is `vipagent vip status --pair`: the local agent's view of
// every VIP on every node of the pair (it asks its peers). Exit 0 when
// every node answered and exactly one holds each VIP, 1 otherwise.
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
	if v.OK {
		return nil
	}
	var bad []string
	for _, p := range v.VIPs {
		if !p.OK {
			bad = append(bad, p.Name)
		}
	}
	return exitf(ExitFailed, "not exactly one holder known for: %s", strings.Join(bad, ", "))
}

// lastAction describes the last step a node's journal holds for a VIP. A
// node journals the steps its own events sent to the other node too (a
// `failover enable 2` run on rm1 disables on rm2), so the step's node is
// named when it is not the row's.
func lastAction(row string, la *journal.LastAction) string {
	where := ""
	if la.Step.Node != "" && la.Step.Node != row {
		where = " on " + la.Step.Node
	}
	return fmt.Sprintf("%s%s %s at %s (event %s)", la.Step.Action, where, la.Step.Outcome, la.Step.StartedAt.UTC().Format(time.RFC3339), la.EventID)
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
			at = r.ObservedAt.UTC().Format(time.RFC3339)
		}
		if la := r.LastAction; la != nil {
			last = lastAction(r.Node, la)
		}
		if r.Error != "" {
			last = "error: " + r.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.VIP, r.Node, present, at, last)
	}
	tw.Flush()
	for _, p := range v.VIPs {
		var verdict string
		switch {
		case len(p.Unknown) > 0:
			verdict = fmt.Sprintf("PROBLEM: not known on %s; held by %s", strings.Join(p.Unknown, ", "), holders(p.Holders))
		case len(p.Holders) == 1:
			verdict = "OK: held by " + p.Holders[0] + " only"
		case len(p.Holders) == 0:
			verdict = "PROBLEM: on no node"
		default:
			verdict = "PROBLEM: on " + fmt.Sprint(len(p.Holders)) + " nodes at once: " + strings.Join(p.Holders, ", ")
		}
		fmt.Fprintf(w, "%s: %s\n", p.Name, verdict)
	}
}

func holders(h []string) string {
	if len(h) == 0 {
		return "no other node"
	}
	return strings.Join(h, ", ")
}
