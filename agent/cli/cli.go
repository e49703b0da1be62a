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
	"slices"
	"strings"
)

const usage = `vipagent moves a Resource Manager's virtual IP safely.

Usage:
  vipagent serve    [--config FILE] [--listen ADDR] [--data DIR]
  vipagent demo     [--keep]   the built-in demo: an agent, alarms, a replay, then stop
  vipagent fire     --condition NAME | --event-id ID --application APP
                    [--host H] [--severity S] [--text T] [--id KEY] [--label k=v]...
                    [--wait DURATION] [--dry-run]
  vipagent failover enable|disable [MEMBERID [ARGS...]] [--dry-run]
  vipagent replay   ID [--dry-run]
  vipagent events   list [--status S] [--limit N] | show ID
  vipagent vip      status [NAME] | status --pair
                    | enable NAME [--force] [--reason R] | disable NAME [--reason R]
  vipagent reports  list [--state S] [--limit N] | retry ID
  vipagent rules    test --condition C [--host H] [--application A] [--label k=v]...
  vipagent config   check
  vipagent journal  check [--data DIR] | salvage --from FILE [--data DIR]
  vipagent genesys  --out DIR
  vipagent version
  vipagent help     [COMMAND]   or: vipagent COMMAND --help

Commands that read a config take --config FILE (default:
/etc/vipagent/vipagent.yaml, on Windows %ProgramData%\vipagent\vipagent.yaml,
when it exists, else the built-in demo configuration: node rm1 with VIP
rm-vip on the fake backend). --config, --data, --agent, --token, --direct,
--json, -o and --dry-run may also come before the command. Commands that
print data take --json or -o json (the API's JSON). fire, failover, replay,
events, vip and reports talk to the local agent over HTTP (--agent URL,
else $VIPAGENT_AGENT, else the config's listen address); when nothing
answers at the config's address, they run in-process on the same journal.
A help word (-h, --help, -help, /?) anywhere prints help and does nothing.
Genesys' standard arguments (-host -port -app -backup_host -backup_port
-lmspath -transport-port -transport-address), added by LCA, are accepted
anywhere and recorded.

` + exitCodes

// Env is what a command sees of the process.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Run is the whole vipagent command: main only builds a context and calls it.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	out, errOut := &termWriter{w: stdout}, &termWriter{w: stderr}
	defer out.flush()
	defer errOut.flush()
	err := dispatch(ctx, args, Env{Getenv: getenv, Stdin: stdin, Stdout: out, Stderr: errOut})
	if errors.Is(err, errHelp) {
		return nil // the usage asked for is printed: nothing went wrong
	}
	return err
}

func dispatch(ctx context.Context, args []string, env Env) error {
	stdout, stderr := env.Stdout, env.Stderr
	args, gargs := SplitGenesysArgs(args)
	global, args, err := leadingFlags(args)
	if err != nil {
		fmt.Fprint(stderr, usage)
		return err
	}
	if len(args) == 0 {
		if hasHelpWord(global) {
			fmt.Fprint(stdout, usage)
			return nil
		}
		fmt.Fprint(stderr, usage)
		return exitf(ExitUsage, "no command given")
	}
	cmd, rest := args[0], append(global, args[1:]...)
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
	case "rules":
		return cmdRules(rest, env)
	case "version", "--version":
		return cmdVersion(rest, env)
	case "help", "-h", "--help", "-help", "/?", "-?":
		if len(args) > 1 && lookupCommand(args[1]) != nil && args[1] != "help" {
			return dispatch(ctx, []string{args[1], "--help"}, env)
		}
		if len(args) > 1 && !helpWords[args[1]] {
			return writeTopic(stdout, args[1])
		}
		printUsage(stdout)
		return nil
	}
	if hasHelpWord(rest) {
		printUsage(stdout)
		return nil
	}
	fmt.Fprint(stderr, usage)
	if s := suggest(cmd, commandNames()); s != "" {
		return exitf(ExitUsage, "unknown command %q (did you mean %q?)", cmd, s)
	}
	return exitf(ExitUsage, "unknown command %q", cmd)
}

// leadingFlags takes the shared flags written before the command
// (`vipagent --config F config check`); they are handed to the command as
// if written after it. A help word there is kept for the command too.
func leadingFlags(args []string) (global, rest []string, err error) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		a := args[0]
		if helpWords[a] || a == "--version" {
			if a == "--version" {
				return global, args, nil
			}
			global = append(global, a)
			args = args[1:]
			continue
		}
		name, _, inline := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !slices.Contains(sharedFlags, name) {
			msg := fmt.Sprintf("unknown flag --%s before the command", name)
			if s := suggest(name, typoTargets(sharedFlags)); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", dashed(s))
			}
			return nil, nil, exitf(ExitUsage, "%s", msg)
		}
		n := 1
		if !inline && !sharedBool[name] {
			if len(args) < 2 {
				return nil, nil, exitf(ExitUsage, "%s needs a value", dashed(name))
			}
			n = 2
		}
		global = append(global, args[:n]...)
		args = args[n:]
	}
	return global, args, nil
}

func hasHelpWord(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return helpWords[a] })
}

// printUsage is the global usage and the list of reference topics.
func printUsage(w io.Writer) {
	fmt.Fprint(w, usage)
	fmt.Fprintf(w, "\nReference: vipagent help TOPIC, with TOPIC one of\n  %s\n", strings.Join(topicNames(), ", "))
}
