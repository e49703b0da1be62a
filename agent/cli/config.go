package cli

import (
	"context"
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
	if len(pos) == 0 || pos[0] != "check" {
		return subcommandError("config", first(pos), "check")
	}
	if len(pos) > 1 {
		return exitf(ExitUsage, "config check: unexpected argument %q", pos[1])
	}
	c.config = config.Choose(c.config, env.Stderr)
	name := c.config
	if name == "" {
		name = "built-in configuration"
	}
	cfg, err := checkConfig(c, env)
	if !c.json {
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s: ok (node %s, %d vips, %d reactions)\n", name, cfg.Node, len(cfg.VIPs), len(cfg.Reactions))
		return nil
	}
	v := configView{Config: name, OK: err == nil, Problems: []string{}, Warnings: []string{}}
	if err != nil {
		var probs config.Problems
		if errors.As(err, &probs) {
			v.Problems = probs
		} else {
			v.Problems = []string{err.Error()}
		}
	} else {
		v.Node, v.VIPs, v.Reactions = cfg.Node, len(cfg.VIPs), len(cfg.Reactions)
		v.Warnings = append(v.Warnings, cfg.Warnings()...)
	}
	printJSONOr(env, true, v, nil)
	return err
}

// configView is `config check --json`.
type configView struct {
	Config    string   `json:"config"`
	OK        bool     `json:"ok"`
	Node      string   `json:"node,omitempty"`
	VIPs      int      `json:"vips"`
	Reactions int      `json:"reactions"`
	Problems  []string `json:"problems"`
	Warnings  []string `json:"warnings"`
}

// checkConfig is every check config check makes, all problems at once;
// warnings go to stderr unless the caller prints them as JSON.
func checkConfig(c common, env Env) (*config.Config, error) {
	cfg, err := config.Load(c.config, env.Getenv)
	if err != nil {
		var probs config.Problems
		if errors.As(err, &probs) && cfg != nil {
			probs = append(probs, agent.Check(cfg)...)
			probs = append(probs, agent.CheckTLS(cfg)...)
			err = cfg.Locate(probs)
		}
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	// Genesys fields (rm_application, host, nics) are checked by `vipagent
	// genesys`, which needs them; the agent does not.
	probs := config.Problems(agent.Check(cfg))
	probs = append(probs, agent.CheckTLS(cfg)...)
	probs = append(probs, agent.Preflight(context.Background(), cfg)...) // each look is bounded
	if err := agent.CheckExposure(cfg); err != nil {
		probs = append(probs, err.Error())
	}
	if len(probs) > 0 {
		return nil, &ExitError{Code: ExitUsage, Err: cfg.Locate(probs)}
	}
	if !c.json {
		for _, w := range cfg.Warnings() {
			fmt.Fprintln(env.Stderr, "warning:", w)
		}
	}
	return cfg, nil
}
