package cli

import (
	"errors"
	"fmt"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/config"
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
	c.config = config.Choose(c.config, env.Stderr)
	cfg, err := config.Load(c.config, env.Getenv)
	if err != nil {
		var probs config.Problems
		if errors.As(err, &probs) && cfg != nil {
			probs = append(probs, agent.Check(cfg)...)
			probs = append(probs, agent.CheckTLS(cfg)...)
			err = cfg.Locate(probs)
		}
		return &ExitError{Code: ExitUsage, Err: err}
	}
	// Genesys fields (rm_application, host, nics) are checked by `vipagent
	// genesys`, which needs them; the agent does not.
	probs := config.Problems(agent.Check(cfg))
	probs = append(probs, agent.CheckTLS(cfg)...)
	if err := agent.CheckExposure(cfg); err != nil {
		probs = append(probs, err.Error())
	}
	if len(probs) > 0 {
		return &ExitError{Code: ExitUsage, Err: cfg.Locate(probs)}
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(env.Stderr, "warning:", w)
	}
	name := c.config
	if name == "" {
		name = "built-in configuration"
	}
	fmt.Fprintf(env.Stdout, "%s: ok (node %s, %d vips, %d reactions)\n", name, cfg.Node, len(cfg.VIPs), len(cfg.Reactions))
	return nil
}
