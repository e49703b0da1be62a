package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

// printResult prints an event result (or a 202) and returns the exit error.
func (cl *client) printResult(code int, body []byte) error {
	if code == http.StatusAccepted {
		if cl.c.json {
			cl.env.Stdout.Write(body)
		} else {
			var acc struct {
				EventID  string `json:"event_id"`
				Location string `json:"location"`
			}
			json.Unmarshal(body, &acc)
			fmt.Fprintf(cl.env.Stdout, "event %s accepted and still running; see %s\n", acc.EventID, acc.Location)
			cl.accepted = acc.EventID
		}
		if cl.accepted == "" {
			cl.accepted = "an event"
		}
		return exitf(ExitUnknown, "accepted as %s, outcome unknown: still running when --wait ran out", cl.accepted)
	}
	var res reactions.Result
	if err := json.Unmarshal(body, &res); err != nil || res.EventID == "" {
		return apiError(code, body)
	}
	cl.recordUnjournaled(&res)
	if cl.c.json {
		cl.env.Stdout.Write(body)
	} else {
		PrintResult(cl.env.Stdout, &res)
	}
	if c := exitForStatus(res.Status); c != ExitOK {
		return exitf(c, "event %s %s", res.EventID, res.Status)
	}
	return nil
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
	fmt.Fprintf(w, "event %s on %s: %s%s\n", r.EventID, r.Node, r.Status, dup)
	if r.Reaction != "" {
		fmt.Fprintf(w, "  reaction: %s\n", r.Reaction)
	}
	if r.ReplayOf != "" && !r.DryRun {
		fmt.Fprintf(w, "  replay of: %s\n", r.ReplayOf)
	}
	for _, s := range r.Steps {
		what := s.VIP
		if s.Action == reactions.ActionRun {
			what = s.Command
		}
		line := fmt.Sprintf("  step %d: %s %s on %s", s.Index, s.Action, what, s.Node)
		if s.Backend != "" {
			line += " [" + s.Backend + "]"
		}
		line += ": " + string(s.Outcome)
		if s.Before != nil && s.After != nil {
			line += fmt.Sprintf(" (%s -> %s)", reactions.Presence(s.Before.Present), reactions.Presence(s.After.Present))
		} else if s.Before != nil {
			line += fmt.Sprintf(" (now %s)", reactions.Presence(s.Before.Present))
		}
		if s.Outcome != reactions.OutcomeSkipped && s.Outcome != reactions.OutcomePlanned {
			line += fmt.Sprintf(" in %.1f ms", s.DurationMS)
		}
		if s.PeerEvent != "" {
			line += " (peer event " + s.PeerEvent + ")"
		}
		fmt.Fprintln(w, line)
		if s.Reason != "" {
			fmt.Fprintf(w, "    %s\n", s.Reason)
		}
		if s.Error != "" {
			fmt.Fprintf(w, "    error: %s\n", s.Error)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if r.Error != "" && r.Status != reactions.StatusSucceeded {
		fmt.Fprintf(w, "  %s\n", r.Error)
	}
}

func printEvent(w io.Writer, ev *reactions.Event) {
	fmt.Fprintf(w, "event %s: %s, received %s via %s\n", ev.ID, ev.Status, ev.ReceivedAt.Local().Format(time.RFC3339), ev.Source)
	a := ev.Alarm
	fmt.Fprintf(w, "  alarm: condition=%q event_id=%q application=%q host=%q severity=%q\n", a.Condition, a.EventID, a.Application, a.Host, a.Severity)
	if a.ID != "" {
		fmt.Fprintf(w, "  idempotency key: %s\n", a.ID)
	}
	if ev.ReplayOf != "" {
		fmt.Fprintf(w, "  replay of: %s\n", ev.ReplayOf)
	}
	if ev.Origin != "" {
		fmt.Fprintf(w, "  asked for by: %s\n", ev.Origin)
	}
	if len(ev.GenesysArgs) > 0 {
		fmt.Fprintf(w, "  genesys args: %v\n", ev.GenesysArgs)
	}
	if ev.Result != nil {
		PrintResult(w, ev.Result)
	}
}

// recordUnjournaled writes a line per step to the plain record file when
// an emergency run acted without the journal, and says where.
func (cl *client) recordUnjournaled(res *reactions.Result) {
	if cl.direct == nil || cl.direct.Unjournaled == nil || res.DryRun || res.Duplicate {
		return
	}
	rec := journal.UnjournaledRecord{Time: time.Now().UTC(), Node: res.Node, Outcome: reactions.Outcome(res.Status), Error: res.Error, JournalError: cl.direct.Unjournaled.Error()}
	recs := []journal.UnjournaledRecord{rec}
	if len(res.Steps) > 0 {
		recs = recs[:0]
		for _, s := range res.Steps {
			r := rec
			r.Action, r.VIP, r.Outcome, r.Error = s.Action, s.VIP+s.Command, s.Outcome, s.Error
			recs = append(recs, r)
		}
	}
	for _, r := range recs {
		path, err := journal.AppendUnjournaled(cl.cfg.DataDir, r)
		if err != nil {
			fmt.Fprintf(cl.env.Stderr, "vipagent: WARNING: event %s was NOT journaled, and no record could be written either: %v\n", res.EventID, err)
			return
		}
		fmt.Fprintf(cl.env.Stderr, "vipagent: WARNING: event %s was NOT journaled; a one-line record of %s %s is in %s\n", res.EventID, r.Action, r.VIP, path)
	}
}
