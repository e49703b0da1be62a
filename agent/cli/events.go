package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions"
)

func cmdEvents(ctx context.Context, args []string, env Env) error {
	var c common
	fs := newFlags("events", env, &c)
	status := fs.String("status", "", "only events with this status")
	limit := fs.Int("limit", 20, "how many events, newest first (the agent's pages are followed)")
	cursor := fs.String("cursor", "", "go on from where an earlier listing stopped")
	pos, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || (pos[0] != "list" && pos[0] != "show") {
		return subcommandError("events", first(pos), "list", "show")
	}
	if (pos[0] == "list" && len(pos) != 1) || (pos[0] == "show" && len(pos) != 2) {
		return exitf(ExitUsage, "usage: vipagent events list [--status S] [--limit N] [--cursor C] | events show ID")
	}
	if *limit < 1 {
		return exitf(ExitUsage, "events: --limit must be at least 1")
	}
	cl, err := newClient(c, env, 0, config.RoleRead, config.RoleAdmin)
	if err != nil {
		return err
	}
	defer cl.close()
	if pos[0] == "show" {
		id, err := cl.eventID(ctx, pos[1])
		if err != nil {
			return err
		}
		var ev reactions.Event
		if printed, err := cl.fetch(ctx, http.MethodGet, "/v1/events/"+url.PathEscape(id), nil, &ev); err != nil || printed {
			return err
		}
		printEvent(env.Stdout, &ev)
		return nil
	}
	q := url.Values{}
	if *status != "" {
		q.Set("status", *status)
	}
	if *cursor != "" {
		q.Set("cursor", *cursor)
	}
	items, next, printed, err := cl.listPages(ctx, "/v1/events", "events", q, *limit)
	if err != nil || printed {
		return err
	}
	var list struct{ Events []reactions.Event }
	for _, raw := range items {
		var ev reactions.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("decode event: %w", err)
		}
		list.Events = append(list.Events, ev)
	}
	printEventList(env.Stdout, list.Events)
	if next != "" {
		fmt.Fprintf(env.Stdout, "more: vipagent events list --cursor %s\n", safe(next))
	}
	return nil
}

// latest stands for the newest journaled event wherever a command takes an
// event ID (`events show latest`, `replay latest`).
const latest = "latest"

// eventID is id, or the newest event's ID when id is "latest".
func (cl *client) eventID(ctx context.Context, id string) (string, error) {
	if id != latest {
		return id, nil
	}
	code, body, err := cl.do(ctx, http.MethodGet, "/v1/events?limit=1", nil)
	if err != nil {
		return "", err
	}
	var page struct {
		Events []reactions.Event `json:"events"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &page) != nil {
		return "", exitf(ExitFailed, "latest: the agent answered %d to the list of events", code)
	}
	if len(page.Events) == 0 {
		return "", exitf(ExitUsage, "latest: the journal has no events yet")
	}
	return page.Events[0].ID, nil
}
