package cli

import (
	"encoding/json"
	"fmt"
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
			fmt.Fprintf(cl.env.Stdout, "event %s accepted and still running; see %s\n", safe(acc.EventID), safe(acc.Location))
		}
		return exitf(ExitFailed, "result not known yet")
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
			fmt.Fprintf(cl.env.Stderr, "vipagent: WARNING: event %s was NOT journaled, and no record could be written either: %v\n", safe(res.EventID), err)
			return
		}
		fmt.Fprintf(cl.env.Stderr, "vipagent: WARNING: event %s was NOT journaled; a one-line record of %s %s is in %s\n", safe(res.EventID), r.Action, safe(r.VIP), path)
	}
}
