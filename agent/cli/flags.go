package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/config"
)

// common are the flags every command has.
type common struct {
	config string
	data   string
	agent  string
	token  string
	direct bool
	json   bool
}

func newFlags(name string, env Env, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package's own message would repeat the error that main
	// prints; the usage goes to stderr after a mistake, to stdout when
	// asked for (see parse).
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&c.config, "config", "", "configuration file (default: built-in)")
	fs.StringVar(&c.data, "data", "", "data directory (default: the config's data_dir)")
	fs.StringVar(&c.agent, "agent", "", "the local agent's URL (default: from the config's listen address)")
	fs.StringVar(&c.token, "token", "", "bearer token for the agent (default: $VIPAGENT_TOKEN, else one from the config)")
	fs.BoolVar(&c.direct, "direct", false, "run in-process on the journal instead of asking the agent")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	return fs
}

// parse parses flags and allows them after positional arguments too
// ("replay ID --dry-run").
// A --help prints the usage on stdout and ends the command with exit 0 and
// no error message (errHelp); any other flag error prints it on stderr.
func parse(fs *flag.FlagSet, env Env, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(env.Stdout, usage)
				return nil, errHelp
			}
			fmt.Fprint(env.Stderr, usage)
			return nil, exitf(ExitUsage, "%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// errHelp ends a command whose usage was asked for: Run returns nil.
var errHelp = &ExitError{Code: ExitOK, Err: flag.ErrHelp}

// labelsFlag collects --label k=v.
type labelsFlag map[string]string

func (l labelsFlag) String() string { return "" }

func (l labelsFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("label must be key=value")
	}
	l[k] = val
	return nil
}

func loadConfig(c common, env Env) (*config.Config, error) {
	banner := env.Stderr
	if c.agent != "" {
		banner = nil // the agent named acts, not this host on the built-in config
	}
	cfg, err := config.Load(config.Choose(c.config, banner), env.Getenv)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	if c.data != "" {
		cfg.DataDir = c.data
	}
	if probs := agent.Check(cfg); len(probs) > 0 {
		return nil, &ExitError{Code: ExitUsage, Err: cfg.Locate(probs)}
	}
	return cfg, nil
}
