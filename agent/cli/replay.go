package cli

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/vipagent/vipagent/agent/config"
)

func cmdReplay(ctx context.Context, args []string, env Env) error {
	var c common
	fs := newFlags("replay", env, &c)
	wait := durationVar(fs, "wait", 60*time.Second, "how long to wait for the result")
	pos, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return exitf(ExitUsage, "replay needs one event ID; see vipagent replay --help")
	}
	cl, err := newClient(c, env, *wait, config.RoleAdmin, config.RoleTrigger)
	if err != nil {
		return err
	}
	defer cl.close()
	id, err := cl.eventID(ctx, pos[0])
	if err != nil {
		return err
	}
	path := "/v1/events/" + url.PathEscape(id) + "/replay?wait=" + wait.String()
	if c.dryRun {
		path += "&dry_run=true"
	}
	code, resp, err := cl.do(ctx, http.MethodPost, path, nil)
	if err != nil {
		return err
	}
	return cl.printResult(code, resp)
}
