package cli

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/vipagent/vipagent/agent/api"
)

func cmdVIP(ctx context.Context, args []string, env Env) error {
	var c common
	fs := newFlags("vip", env, &c)
	force := fs.Bool("force", false, "enable even if another host answers for the address")
	reason := fs.String("reason", "", "why (journaled)")
	wait := durationVar(fs, "wait", 60*time.Second, "how long to wait for the result")
	pair := fs.Bool("pair", false, "status: every node of the pair in one table (exit 0 one holder per VIP, 1 two or none, 4 a node could not be asked)")
	pos, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || (pos[0] != "status" && pos[0] != "enable" && pos[0] != "disable") {
		return subcommandError("vip", first(pos), "status", "enable", "disable")
	}
	cl, err := newClient(c, env, *wait, tokenRoles(pos[0] == "enable" || pos[0] == "disable")...)
	if err != nil {
		return err
	}
	defer cl.close()
	switch {
	case pos[0] == "status" && len(pos) == 1 && *pair:
		return vipStatusPair(ctx, cl, env)
	case pos[0] == "status" && len(pos) <= 2:
		path := "/v1/vips"
		if len(pos) == 2 {
			path += "/" + url.PathEscape(pos[1])
		}
		var list struct {
			VIPs []api.VIPView `json:"vips"`
		}
		var one api.VIPView
		dst := any(&list)
		if len(pos) == 2 {
			dst = &one
		}
		if printed, err := cl.fetch(ctx, http.MethodGet, path, nil, dst); err != nil || printed {
			return err
		}
		if len(pos) == 2 {
			list.VIPs = []api.VIPView{one}
		}
		printVIPs(env.Stdout, list.VIPs)
		return nil
	case (pos[0] == "enable" || pos[0] == "disable") && len(pos) == 2:
		body := map[string]any{"force": *force, "reason": *reason}
		code, resp, err := cl.do(ctx, http.MethodPost, "/v1/vips/"+url.PathEscape(pos[1])+"/"+pos[0]+"?wait="+wait.String(), body)
		if err != nil {
			return err
		}
		return cl.printResult(code, resp)
	}
	return exitf(ExitUsage, "usage: vipagent vip status [NAME] | status --pair [--json] | enable NAME [--force] [--reason R] | disable NAME [--reason R]")
}
