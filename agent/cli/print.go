package cli

import (
	"encoding/json"
	"fmt"
	"net/http"

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
