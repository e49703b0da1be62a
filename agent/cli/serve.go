package cli

import (
	"context"
	"errors"
	"os"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/config"
)

func cmdServe(ctx context.Context, args []string, gargs map[string]string, env Env) error {
	var c common
	fs := newFlags("serve", env, &c)
	listen := fs.String("listen", "", "listen address (default: the config's listen, "+config.DefaultListen+")")
	if _, err := parse(fs, env, args); err != nil {
		return err
	}
	// From here on a SIGHUP never kills the agent: one that comes while it
	// starts is applied once it serves.
	hup, stop := reloadSignals()
	defer stop()
	cfg, err := loadConfig(c, env)
	if err != nil {
		return err
	}
	if *listen != "" {
		if why := config.CheckListen(*listen); why != "" {
			return exitf(ExitUsage, "--listen: %s", why)
		}
		cfg.Listen = *listen
	}
	// The agent accepts, signs and calls peers: it needs every secret.
	if probs := cfg.SecretProblems(); len(probs) > 0 {
		return &ExitError{Code: ExitUsage, Err: probs}
	}
	if err := agent.CheckExposure(cfg); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if probs := agent.CheckTLS(cfg); len(probs) > 0 {
		return &ExitError{Code: ExitUsage, Err: config.Problems(probs)}
	}
	if probs := agent.Preflight(ctx, cfg); len(probs) > 0 {
		return &ExitError{Code: ExitUsage, Err: config.Problems(probs)}
	}
	m, err := agent.Open(cfg, agent.Options{Stderr: env.Stderr})
	if err != nil {
		return err
	}
	if len(gargs) > 0 {
		m.Logger.Info().Interface("genesys_args", gargs).Msg("started with Genesys arguments")
	}
	if config.Choose(c.config, nil) == "" {
		m.Logger.Info().Msg("using the built-in configuration (fake backend): see vipagent --help")
	}
	if err := m.Serve(ctx); err != nil {
		m.Close(context.Background())
		return err
	}
	serveErr := serveUntilDone(ctx, m, hup, c, *listen, env)
	if serveErr == nil {
		m.Logger.Info().Msg("stopping: intake closed, letting running steps finish")
	}
	gctx, cancel := context.WithTimeout(context.Background(), cfg.Limits.ShutdownGrace.D())
	defer cancel()
	err = m.Close(gctx)
	m.Logger.Info().Err(err).Msg("stopped")
	return errors.Join(serveErr, err)
}

// serveUntilDone waits for ctx or the server's end, and reloads the
// configuration on each SIGHUP (Unix): the file is read again with the
// same command-line overrides, and the agent applies or refuses it (see
// agent.Main.Reload, which logs and counts either way).
func serveUntilDone(ctx context.Context, m *agent.Main, hup <-chan os.Signal, c common, listen string, env Env) error {
	done := make(chan error, 1)
	go func() { done <- m.Wait(ctx) }()
	for {
		select {
		case err := <-done:
			return err
		case <-hup:
			m.Logger.Info().Str("config", c.config).Msg("SIGHUP: reading the configuration again")
			next, err := config.Load(c.config, env.Getenv)
			if err != nil {
				m.Logger.Error().Err(err).Msg("configuration reload refused: the running configuration stays")
				m.CountReload(false)
				continue
			}
			if c.data != "" {
				next.DataDir = c.data
			}
			if listen != "" {
				next.Listen = listen
			}
			m.Reload(next, env.Getenv)
		}
	}
}
