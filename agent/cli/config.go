package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/genesys"
)

func cmdConfig(args []string, env Env) error {
	var c common
	fs := newFlags("config", env, &c)
	pos, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "check" {
		return exitf(ExitUsage, "usage: vipagent config check [--config FILE]")
	}
	cfg, err := config.Load(c.config, env.Getenv)
	if err != nil {
		var probs config.Problems
		if errors.As(err, &probs) && cfg != nil {
			probs = append(probs, agent.Check(cfg)...)
			probs = append(probs, agent.CheckTLS(cfg)...)
			err = probs
		}
		return &ExitError{Code: ExitUsage, Err: err}
	}
	probs := config.Problems(agent.Check(cfg))
	probs = append(probs, agent.CheckTLS(cfg)...)
	probs = append(probs, agent.Preflight(context.Background(), cfg)...) // each look is bounded
	var gp config.Problems
	if err := genesys.Check(cfg); errors.As(err, &gp) {
		probs = append(probs, gp...)
	} else if err != nil {
		probs = append(probs, err.Error())
	}
	if len(probs) > 0 {
		return &ExitError{Code: ExitUsage, Err: probs}
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(env.Stderr, "warning:", w)
	}
	if err := agent.CheckExposure(cfg); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	name := c.config
	if name == "" {
		name = "built-in configuration"
	}
	fmt.Fprintf(env.Stdout, "%s: ok (node %s, %d vips, %d reactions)\n", name, cfg.Node, len(cfg.VIPs), len(cfg.Reactions))
	return nil
}
