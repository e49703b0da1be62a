package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/vipagent/vipagent/agent/report"
)

const reportsUsage = "usage: vipagent reports list [--state pending|delivered|rejected|expired] [--limit N] [--cursor C] [--json] | reports retry ID"

// cmdReports lists the report outbox and sends a report again.
func cmdReports(ctx context.Context, args []string, env Env) error {
	var c common
	fs := newFlags("reports", env, &c)
	state := fs.String("state", "", "only reports in this state (pending, delivered, rejected, expired)")
	limit := fs.Int("limit", 20, "how many reports, newest first (the agent's pages are followed)")
	cursor := fs.String("cursor", "", "go on from where an earlier listing stopped")
	pos, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || (pos[0] != "list" && pos[0] != "retry") {
		return subcommandError("reports", first(pos), "list", "retry")
	}
	if (pos[0] == "list" && len(pos) != 1) || (pos[0] == "retry" && len(pos) != 2) {
		return exitf(ExitUsage, reportsUsage)
	}
	cl, err := newClient(c, env, 0, tokenRoles(pos[0] == "retry")...)
	if err != nil {
		return err
	}
	defer cl.close()
	if pos[0] == "retry" {
		var out struct {
			Report report.View `json:"report"`
		}
		if printed, err := cl.fetch(ctx, http.MethodPost, "/v1/reports/"+url.PathEscape(pos[1])+"/retry", nil, &out); err != nil || printed {
			return err
		}
		fmt.Fprintf(env.Stdout, "report %s to %s is pending again and will be sent now\n", out.Report.ID, out.Report.Target)
		return nil
	}
	if *limit < 1 {
		return exitf(ExitUsage, "reports: --limit must be at least 1")
	}
	q := url.Values{}
	if *state != "" {
		q.Set("state", *state)
	}
	if *cursor != "" {
		q.Set("cursor", *cursor)
	}
	items, next, printed, err := cl.listPages(ctx, "/v1/reports", "reports", q, *limit)
	if err != nil || printed {
		return err
	}
	var list struct{ Reports []report.View }
	for _, raw := range items {
		var v report.View
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("decode report: %w", err)
		}
		list.Reports = append(list.Reports, v)
	}
	printReportList(env.Stdout, list.Reports)
	if next != "" {
		fmt.Fprintf(env.Stdout, "more: vipagent reports list --cursor %s\n", safe(next))
	}
	return nil
}
