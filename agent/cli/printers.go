package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/agent/report"
	"github.com/vipagent/vipagent/reactions"
)

// The printers for people. Every value that came from outside the binary
// goes through safe (one value, one line: a newline in an alarm's text
// cannot forge a line), times are UTC with their zone, and tables have
// headers. Run's termWriter is the backstop under all of them.

// timeUTC is how the CLI prints a time: RFC 3339 in UTC, with milliseconds
// always, so that columns line up.
func timeUTC(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func printEventList(w io.Writer, events []reactions.Event) {
	if len(events) == 0 {
		fmt.Fprintln(w, "no events")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RECEIVED (UTC)\tSTATUS\tSOURCE\tEVENT\tALARM")
	for _, ev := range events {
		what := ev.Alarm.Condition
		if what == "" {
			what = ev.Alarm.EventID + " " + ev.Alarm.Application
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", timeUTC(ev.ReceivedAt), safe(string(ev.Status)), safe(string(ev.Source)), safe(ev.ID), safe(what))
	}
	tw.Flush()
}

func printReportList(w io.Writer, reports []report.View) {
	if len(reports) == 0 {
		fmt.Fprintln(w, "no reports")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED (UTC)\tSTATE\tATTEMPTS\tTARGET\tREPORT\tNEXT ATTEMPT\tLAST ERROR")
	for _, r := range reports {
		next := "-"
		if !r.NextAttempt.IsZero() && r.Attempts > 0 {
			next = timeUTC(r.NextAttempt)
		}
		last := "-"
		if r.LastError != "" {
			last = safe(r.LastError)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", timeUTC(r.Created), safe(r.State), r.Attempts, safe(r.Target), safe(r.ID), next, last)
	}
	tw.Flush()
}

// printVIPs is `vip status`: one row per VIP, as seen by this node.
func printVIPs(w io.Writer, vips []api.VIPView) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VIP\tNODE\tPRESENT\tADDRESS\tINTERFACE\tBACKEND\tOBSERVED AT\tDETAIL\tLAST ACTION")
	for _, v := range vips {
		present, detail, last := "unknown", "-", "-"
		if v.State != nil {
			present = map[bool]string{true: "yes", false: "no"}[v.State.Present]
			if v.State.Detail != "" {
				detail = safe(v.State.Detail)
			}
		}
		if v.Error != "" {
			detail = "error: " + safe(v.Error)
		}
		if v.LastAction != nil {
			last = lastAction(v.Node, v.LastAction)
		}
		if v.Moving {
			// The journal records a move when it ends: the last action
			// is not this one.
			last = "a move is in flight; before it: " + last
		}
		iface := "-"
		if v.Interface != "" {
			iface = safe(v.Interface)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", safe(v.Name), safe(v.Node), present, safe(v.Address), iface, safe(v.Backend), timeUTC(v.ObservedAt), detail, last)
	}
	tw.Flush()
}

// PrintResult writes a result for people.
func PrintResult(w io.Writer, r *reactions.Result) {
	dup := ""
	if r.Duplicate {
		dup = " (duplicate: answered from the journal, nothing executed)"
	}
	if r.DryRun {
		dup = " (dry run: nothing executed)"
	}
	fmt.Fprintf(w, "event %s on %s: %s%s\n", safe(r.EventID), safe(r.Node), safe(string(r.Status)), dup)
	if r.Reaction != "" {
		fmt.Fprintf(w, "  reaction: %s\n", safe(r.Reaction))
	}
	if r.ReplayOf != "" && !r.DryRun {
		fmt.Fprintf(w, "  replay of: %s\n", safe(r.ReplayOf))
	}
	for _, s := range r.Steps {
		what := s.VIP
		if s.Action == reactions.ActionRun {
			what = s.Command
		}
		line := fmt.Sprintf("  step %d: %s %s on %s", s.Index, safe(string(s.Action)), safe(what), safe(s.Node))
		if s.Backend != "" {
			line += " [" + safe(s.Backend) + "]"
		}
		line += ": " + safe(string(s.Outcome))
		if s.Before != nil && s.After != nil {
			line += fmt.Sprintf(" (%s -> %s)", reactions.Presence(s.Before.Present), reactions.Presence(s.After.Present))
		} else if s.Before != nil {
			line += fmt.Sprintf(" (now %s)", reactions.Presence(s.Before.Present))
		}
		if s.Outcome != reactions.OutcomeSkipped && s.Outcome != reactions.OutcomePlanned {
			line += fmt.Sprintf(" in %.1f ms", s.DurationMS)
		}
		if s.PeerEvent != "" {
			line += " (peer event " + safe(s.PeerEvent) + ")"
		}
		fmt.Fprintln(w, line)
		if s.Reason != "" {
			fmt.Fprintf(w, "    %s\n", safe(s.Reason))
		}
		if s.Error != "" {
			fmt.Fprintf(w, "    error: %s\n", safe(s.Error))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", safe(n))
	}
	if r.Error != "" && r.Status != reactions.StatusSucceeded {
		fmt.Fprintf(w, "  %s\n", safe(r.Error))
	}
}

func printEvent(w io.Writer, ev *reactions.Event) {
	fmt.Fprintf(w, "event %s: %s, received %s via %s\n", safe(ev.ID), safe(string(ev.Status)), timeUTC(ev.ReceivedAt), safe(string(ev.Source)))
	a := ev.Alarm
	fmt.Fprintf(w, "  alarm: condition=%q event_id=%q application=%q host=%q severity=%q\n", a.Condition, a.EventID, a.Application, a.Host, a.Severity)
	if a.Text != "" {
		fmt.Fprintf(w, "  text: %q\n", a.Text)
	}
	if len(a.Labels) > 0 {
		fmt.Fprintf(w, "  labels: %s\n", quotedMap(a.Labels))
	}
	if a.ID != "" {
		fmt.Fprintf(w, "  idempotency key: %s\n", safe(a.ID))
	}
	if ev.ReplayOf != "" {
		fmt.Fprintf(w, "  replay of: %s\n", safe(ev.ReplayOf))
	}
	if ev.Origin != "" {
		fmt.Fprintf(w, "  asked for by: %s\n", safe(ev.Origin))
	}
	if len(ev.GenesysArgs) > 0 {
		fmt.Fprintf(w, "  genesys args: %s\n", quotedMap(ev.GenesysArgs))
	}
	if ev.Result != nil {
		PrintResult(w, ev.Result)
	}
}

// quotedMap prints a map in key order, keys and values quoted.
func quotedMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%q=%q", k, m[k]))
	}
	return strings.Join(parts, " ")
}
