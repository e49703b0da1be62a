// Package cli is the vipagent command: dispatch and flags, the HTTP client
// that hands commands to the local agent (or runs them in-process on the
// same journal when no agent answers), and the printers. One file per
// command or family of commands; the agent itself is built by package
// agent.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X ...agent.Version=v1.2.3".
var Version = "dev"

const usage = `vipagent moves a Resource Manager's virtual IP safely.

Usage:
  vipagent serve    [--config FILE] [--listen ADDR] [--data DIR]
  vipagent demo     [--keep]   the built-in demo: an agent, alarms, a replay, then stop
  vipagent fire     --condition NAME | --event-id ID --application APP
                    [--host H] [--severity S] [--text T] [--id KEY] [--label k=v]...
                    [--agent URL] [--direct] [--json] [--wait DURATION]
  vipagent failover enable|disable [MEMBERID [ARGS...]]
  vipagent replay   ID [--dry-run]
  vipagent events   list [--status S] [--limit N] | show ID
  vipagent vip      status [NAME] | status --pair [--json]
                    | enable NAME [--force] [--reason R] | disable NAME [--reason R]
  vipagent reports  list [--state S] [--limit N] | retry ID
  vipagent config   check
  vipagent journal  check [--data DIR] | salvage --from FILE [--data DIR]
  vipagent genesys  --out DIR
  vipagent version

Every command takes --config FILE (default: the built-in configuration,
node rm1 with VIP rm-vip on the fake backend). fire, failover, replay,
events, vip and reports talk to the local agent over HTTP (--agent URL,
else $VIPAGENT_AGENT, else the config's listen address); when nothing
answers at the config's address, they run in-process on the same journal.
Genesys' standard arguments (-host -port -app -backup_host -backup_port
-lmspath -transport-port -transport-address), added by LCA, are accepted
anywhere and recorded.

Exit codes:
  0  succeeded
  1  a step failed or timed out
  2  bad usage, configuration or input, or an agent that is not this config's
  3  no reaction rule matched the alarm
  4  not accepted: no agent answered in time (and running in-process was
     impossible), or the request expired; nothing was done by it
  5  accepted as an event, outcome unknown (see: vipagent events show ID)
`

// Env is what a command sees of the process.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Run is the whole vipagent command: main only builds a context and calls it.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr})
	if errors.Is(err, errHelp) {
		return nil // the usage asked for is printed: nothing went wrong
	}
	return err
}

func dispatch(ctx context.Context, args []string, env Env) error {
	stdout, stderr := env.Stdout, env.Stderr
	args, gargs := SplitGenesysArgs(args)
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitf(ExitUsage, "no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, gargs, env)
	case "demo":
		return cmdDemo(ctx, rest, env)
	case "fire":
		return cmdFire(ctx, rest, gargs, env)
	case "failover":
		return cmdFailover(ctx, rest, gargs, env)
	case "replay":
		return cmdReplay(ctx, rest, env)
	case "events":
		return cmdEvents(ctx, rest, env)
	case "vip":
		return cmdVIP(ctx, rest, env)
	case "config":
		return cmdConfig(rest, env)
	case "genesys":
		return cmdGenesys(rest, env)
	case "reports":
		return cmdReports(ctx, rest, env)
	case "journal":
		return cmdJournal(rest, env)
	case "version", "--version":
		fmt.Fprintln(stdout, "vipagent", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return exitf(ExitUsage, "unknown command %q", cmd)
}

func version() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return Version
}
