// Package report delivers results to the people and systems that asked for
// them. Policy decides, when an event finishes, which reports it produces;
// the journal stores them in the same transaction as the result. Outbox
// then POSTs them, signed, in order per target, retrying with backoff
// until they are delivered, rejected or too old.
package report

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

// CallbackTarget is the target name of reports sent to an alarm's
// callback_url.
const CallbackTarget = "callback"

// Payload is the JSON body of every report.
type Payload struct {
	// ReportID is also in the X-Vipagent-Report-Id header; it is stable
	// across retries, so receivers de-duplicate on it.
	ReportID string            `json:"report_id"`
	Node     string            `json:"node"`
	Event    PayloadEvent      `json:"event"`
	Result   *reactions.Result `json:"result"`
}

// PayloadEvent is what a report says about the event that was run.
type PayloadEvent struct {
	ID     string           `json:"id"`
	Source reactions.Source `json:"source"`
	// Alarm is the alarm as received, without its callback_url: a URL
	// given to one caller is not passed on to every report target.
	Alarm      reactions.Alarm `json:"alarm"`
	ReceivedAt time.Time       `json:"received_at"`
	ReplayOf   string          `json:"replay_of,omitempty"`
	Origin     string          `json:"origin,omitempty"`
}

// ID is the report ID of an event's report to a target:
// "<event id>:<target name>". A colon keeps the ID usable as one URL path
// segment (POST /v1/reports/{id}/retry); event IDs never contain one.
func ID(eventID, target string) string { return eventID + ":" + target }

// Policy returns the journal's outbox policy: for a finished event, one
// report per configured target whose statuses include the event's status
// (no statuses: every final status), plus one to the alarm's callback_url
// when it has one. Report IDs are derived from the event and the target,
// so finishing the same event again (recovery after a crash) produces the
// same IDs and the journal keeps only the first of each.
//
// A target with `steps: true` gets each step in full: the VIP state
// observed before and after, and the program run (argv, exit code,
// output). Without it, steps are summarised (action, VIP, node, outcome,
// duration, attempts, error, reason). Callbacks always get the full
// result, as the caller of a synchronous request would.
func Policy(cfg *config.Config) func(ev *reactions.Event) []journal.Report {
	return func(ev *reactions.Event) []journal.Report {
		if ev.Result == nil || ev.Result.DryRun || !ev.Status.Final() {
			return nil
		}
		var out []journal.Report
		for _, t := range cfg.Reports {
			if len(t.Statuses) > 0 && !slices.Contains(t.Statuses, string(ev.Status)) {
				continue
			}
			out = append(out, newReport(cfg.Node, ev, t.Name, t.URL, t.Steps))
		}
		if ev.Alarm.CallbackURL != "" {
			out = append(out, newReport(cfg.Node, ev, CallbackTarget, ev.Alarm.CallbackURL, true))
		}
		return out
	}
}

func newReport(node string, ev *reactions.Event, target, url string, steps bool) journal.Report {
	id := ID(ev.ID, target)
	return journal.Report{
		ID:      id,
		Target:  target,
		URL:     url,
		EventID: ev.ID,
		Body:    body(id, node, ev, steps),
	}
}

func body(id, node string, ev *reactions.Event, steps bool) []byte {
	alarm := ev.Alarm
	alarm.CallbackURL = ""
	res := *ev.Result
	if !steps {
		res.Steps = make([]reactions.StepResult, len(ev.Result.Steps))
		for i, s := range ev.Result.Steps {
			s.Before, s.After, s.Exec = nil, nil, nil
			res.Steps[i] = s
		}
	}
	p := Payload{
		ReportID: id,
		Node:     node,
		Event: PayloadEvent{
			ID: ev.ID, Source: ev.Source, Alarm: alarm, ReceivedAt: ev.ReceivedAt,
			ReplayOf: ev.ReplayOf, Origin: ev.Origin,
		},
		Result: &res,
	}
	b, err := json.Marshal(p)
	if err != nil {
		// Only values JSON cannot hold (a NaN duration) get here; the
		// receiver still learns which event ended how.
		p.Result = &reactions.Result{
			EventID: res.EventID, Node: res.Node, Status: res.Status, Reaction: res.Reaction,
			StartedAt: res.StartedAt, FinishedAt: res.FinishedAt, Steps: []reactions.StepResult{},
			Error: "the result could not be encoded: " + err.Error(),
		}
		b, _ = json.Marshal(p)
	}
	return b
}
