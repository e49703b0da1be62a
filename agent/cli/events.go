package cli

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions"
)

func cmdEvents(ctx context.Context, args []string, env Env) error {
	var c common
	fs := newFlags("events", env, &c)
	status := fs.String("status", "", "only events with this status")
	limit := fs.Int("limit", 20, "how many events")
	pos, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || (pos[0] != "list" && pos[0] != "show") {
		return subcommandError("events", first(pos), "list", "show")
	}
	if (pos[0] == "list" && len(pos) != 1) || (pos[0] == "show" && len(pos) != 2) {
		return exitf(ExitUsage, "usage: vipagent events list [--status S] [--limit N] | events show ID")
	}
	cl, err := newClient(c, env, 0, config.RoleRead, config.RoleAdmin)
	if err != nil {
		return err
	}
	defer cl.close()
	if pos[0] == "show" {
		var ev reactions.Event
		if printed, err := cl.fetch(ctx, http.MethodGet, "/v1/events/"+url.PathEscape(pos[1]), nil, &ev); err != nil || printed {
			return err
		}
		printEvent(env.Stdout, &ev)
		return nil
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *status != "" {
		q.Set("status", *status)
	}
	var list struct {
		Events []reactions.Event `json:"events"`
	}
	if printed, err := cl.fetch(ctx, http.MethodGet, "/v1/events?"+q.Encode(), nil, &list); err != nil || printed {
		return err
	}
	printEventList(env.Stdout, list.Events)
	return nil
}
