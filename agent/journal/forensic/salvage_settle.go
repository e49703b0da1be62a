package forensic

import (
	"encoding/json"

	"github.com/vipagent/vipagent/reactions"
)

// lostFinal is the error of an event settled from its report without a
// readable result.
const lostFinal = "finished before the journal was damaged (a report names it), but its final record was lost: result unknown"

// settleFinished finalises the salvaged events that come back unfinished
// although a salvaged report names them. An event's final version and its
// reports are written in one commit (journal.FinishWithReports), so such a report
// proves the event finished: what was salvaged is an older version (from
// the previous commit's tree or a stale page) whose final one was on a
// damaged page. Resuming it would run its steps a second time, possibly
// after later events moved the VIP elsewhere. The result is taken from the
// report's body when it holds one.
func (s *salvager) settleFinished() {
	byEvent := map[string]*salvagedReport{}
	for _, r := range s.reports {
		byEvent[r.r.EventID] = r
	}
	for _, e := range s.events {
		r := byEvent[e.ev.ID]
		if e.ev.Status.Final() || r == nil {
			continue
		}
		e.ev.Status, e.ev.Result = reactions.StatusFailed, &reactions.Result{EventID: e.ev.ID, Status: reactions.StatusFailed, Error: lostFinal}
		var body struct {
			Result *reactions.Result `json:"result"`
		}
		if json.Unmarshal(r.r.Body, &body) == nil && body.Result != nil && body.Result.Status.Final() {
			e.ev.Status, e.ev.Result = body.Result.Status, body.Result
		}
		e.ev.Result.Notes = append(e.ev.Result.Notes, "settled by a journal salvage from its report: its final record was lost")
		if raw, err := json.Marshal(&e.ev); err == nil {
			e.raw = raw
			s.settled++
		}
	}
}
