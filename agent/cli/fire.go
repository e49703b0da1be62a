package cli

import (
	"context"
	"net/http"
	"time"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions"
)

func cmdFire(ctx context.Context, args []string, gargs map[string]string, env Env) error {
	var c common
	fs := newFlags("fire", env, &c)
	a, labels := alarmFlags(fs)
	fs.StringVar(&a.Text, "text", "", "alarm `TEXT`")
	fs.StringVar(&a.ID, "id", "", "idempotency `KEY`, at most 200 printable characters: a repeated key executes nothing")
	wait := durationVar(fs, "wait", 60*time.Second, "how long to wait for the result")
	pos, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return exitf(ExitUsage, "fire: unexpected argument %q", pos[0])
	}
	if len(labels) > 0 {
		a.Labels = labels
	}
	if err := a.Validate(); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if c.dryRun {
		cfg, err := loadConfig(c, env)
		if err != nil {
			return err
		}
		return printPlanOf(env, c.json, cfg, *a)
	}
	cl, err := newClient(c, env, *wait, config.RoleTrigger, config.RoleAdmin)
	if err != nil {
		return err
	}
	defer cl.close()
	body := struct {
		reactions.Alarm
		GenesysArgs map[string]string `json:"genesys_args,omitempty"`
	}{*a, gargs}
	code, resp, err := cl.do(ctx, http.MethodPost, "/v1/alarms?source=cli&wait="+wait.String(), body)
	if err != nil {
		return err
	}
	return cl.printResult(code, resp)
}
