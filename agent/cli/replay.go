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
	dry := fs.Bool("dry-run", false, "show the plan and the observed state without acting")
	wait := fs.Duration("wait", 60*time.Second, "how long to wait for the result")
	pos, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return exitf(ExitUsage, "usage: vipagent replay ID [--dry-run]")
	}
	cl, err := newClient(c, env, *wait, config.RoleAdmin, config.RoleTrigger)
	if err != nil {
		return err
	}
	defer cl.close()
	path := "/v1/events/" + url.PathEscape(pos[0]) + "/replay?wait=" + wait.String()
	if *dry {
		path += "&dry_run=true"
	}
	code, resp, err := cl.do(ctx, http.MethodPost, path, nil)
	if err != nil {
		return err
	}
	return cl.printResult(code, resp)
}
