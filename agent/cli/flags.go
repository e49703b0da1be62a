package cli

import (
	"flag"
	"fmt"
	"github.com/vipagent/vipagent/agent/typo"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/config"
)

// common are the flags shared by several commands; each command has only
// those its entry in commands lists.
type common struct {
	config string
	data   string
	agent  string
	token  string
	direct bool
	json   bool
	dryRun bool
	// cmd is the command these flags belong to, for its help.
	cmd *command
}

// newFlags is the flag set of one command, with the shared flags that
// command takes. Errors and help are printed by parse, never by the flag
// package.
func newFlags(name string, env Env, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	c.cmd = lookupCommand(name)
	has := func(f string) bool { return c.cmd != nil && slices.Contains(c.cmd.shared, f) }
	if has("config") {
		fs.StringVar(&c.config, "config", "", "configuration `FILE` (default: "+config.StandardPath()+" if it exists, else the built-in demo configuration)")
	}
	if has("data") {
		fs.StringVar(&c.data, "data", "", "data `DIR` (default: the config's data_dir)")
	}
	if has("agent") {
		fs.StringVar(&c.agent, "agent", "", "the local agent's `URL` (default: $VIPAGENT_AGENT, else the config's listen address)")
		fs.StringVar(&c.token, "token", "", "bearer `TOKEN` for the agent (default: $VIPAGENT_TOKEN, else one from the config)")
		fs.BoolVar(&c.direct, "direct", false, "run in-process on the journal instead of asking the agent")
	}
	if has("json") {
		fs.BoolVar(&c.json, "json", false, "print JSON (the API's shapes)")
		fs.Var(outputFormat{&c.json}, "o", "output `FORMAT`: json (as --json) or text")
	}
	if has("dry-run") {
		fs.BoolVar(&c.dryRun, "dry-run", false, "show what would run, without acting")
	}
	return fs
}

// sharedFlags are the flags that may also come before the command
// (`vipagent --config F config check`); with a value unless listed in
// sharedBool.
var sharedFlags = []string{"config", "data", "agent", "token", "direct", "json", "o", "dry-run"}

var sharedBool = map[string]bool{"direct": true, "json": true, "dry-run": true}

// helpWords ask for help wherever they stand on a command line: such a line
// never acts.
var helpWords = map[string]bool{"-h": true, "--h": true, "-help": true, "--help": true, "/?": true, "-?": true}

// parse reads a command's flags and returns the other arguments. Flags may
// come before, between or after them ("replay ID --dry-run"); "--" ends the
// flags. A help word anywhere prints the command's help on stdout and ends
// the command with exit 0 (errHelp) before anything else is looked at.
func parse(fs *flag.FlagSet, env Env, args []string) ([]string, error) {
	return parseArgs(fs, env, args, false)
}

// parseArgs is parse; with freeTail (the failover hook) an argument after
// the first positional one that is not one of fs's flags is positional even
// when it starts with "-": RM's extra arguments are journaled rather than
// refused. A "--" word that looks like a misspelt flag is refused even
// there, so that "--dryrun" never acts.
func parseArgs(fs *flag.FlagSet, env Env, args []string, freeTail bool) ([]string, error) {
	for _, a := range args {
		if helpWords[a] {
			printHelp(env.Stdout, fs)
			return nil, errHelp
		}
	}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name, val, inline := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		f := fs.Lookup(name)
		if f == nil {
			if freeTail && len(pos) > 0 && (!strings.HasPrefix(a, "--") || suggest(name, typoTargets(flagNames(fs))) == "") {
				pos = append(pos, a)
				continue
			}
			return nil, flagError(fs, env, unknownFlag(fs, name))
		}
		if !inline {
			if isBoolFlag(f) {
				val = "true"
			} else {
				if i+1 >= len(args) {
					return nil, flagError(fs, env, fmt.Errorf("%s needs a value", dashed(name)))
				}
				i++
				val = args[i]
			}
		}
		if err := fs.Set(name, val); err != nil {
			return nil, flagError(fs, env, badValue(f, val, err))
		}
	}
	return pos, nil
}

// flagError prints the command's help on stderr after a mistake; the error
// itself is printed once, by main.
func flagError(fs *flag.FlagSet, env Env, err error) error {
	printHelp(env.Stderr, fs)
	return &ExitError{Code: ExitUsage, Err: err}
}

func unknownFlag(fs *flag.FlagSet, name string) error {
	cmd := fs.Name()
	if slices.Contains(sharedFlags, name) {
		why := "it does not use it"
		if name == "json" || name == "o" {
			why = "it prints no data"
		}
		if name == "dry-run" {
			why = "it has no dry run"
		}
		return fmt.Errorf("%s takes no %s: %s", cmd, dashed(name), why)
	}
	msg := fmt.Sprintf("unknown flag --%s for %s", name, cmd)
	if s := suggest(name, typoTargets(flagNames(fs))); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", dashed(s))
	}
	return fmt.Errorf("%s; see vipagent %s --help", msg, cmd)
}

func badValue(f *flag.Flag, val string, err error) error {
	switch f.Value.(type) {
	case *durationValue:
		if _, nerr := strconv.ParseFloat(val, 64); nerr == nil {
			return fmt.Errorf("%s: %s is not a duration (try %ss)", dashed(f.Name), val, val)
		}
		return fmt.Errorf("%s: %q is not a duration (such as 30s, 2m or 1h)", dashed(f.Name), val)
	}
	if _, ok := f.Value.(flag.Getter); ok {
		if _, isInt := f.Value.(flag.Getter).Get().(int); isInt {
			return fmt.Errorf("%s: %q is not a whole number", dashed(f.Name), val)
		}
	}
	return fmt.Errorf("%s: %v", dashed(f.Name), err)
}

// dashed is a flag as people write it: -o, --json.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func flagNames(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// typoTargets are the flag names a mistake may be taken for: a one-letter
// name (-o) is one edit from every other letter, so it is never guessed.
func typoTargets(names []string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return len(n) < 2 })
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// errHelp ends a command whose help was asked for: Run returns nil.
var errHelp = &ExitError{Code: ExitOK, Err: flag.ErrHelp}

// durationValue is a duration flag whose mistakes say what a duration
// looks like.
type durationValue time.Duration

func durationVar(fs *flag.FlagSet, name string, def time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	*p = def
	fs.Var((*durationValue)(p), name, usage)
	return p
}

func (d *durationValue) String() string { return (*time.Duration)(d).String() }

func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("must not be negative")
	}
	*d = durationValue(v)
	return nil
}

// outputFormat is -o FORMAT, the spelling of --json other tools use
// (kubectl, docker): json sets --json, text unsets it.
type outputFormat struct{ json *bool }

func (o outputFormat) String() string {
	if o.json != nil && *o.json {
		return "json"
	}
	return "text"
}

func (o outputFormat) Set(s string) error {
	switch s {
	case "json":
		*o.json = true
	case "text":
		*o.json = false
	default:
		return fmt.Errorf("%q is not an output format: json or text", s)
	}
	return nil
}

// labelsFlag collects --label k=v.
type labelsFlag map[string]string

func (l labelsFlag) String() string { return "" }

func (l labelsFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("label must be key=value, got %q", v)
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

// suggest is the candidate closest to s, if one is close enough to be a
// likely typo (edit distance at most 2, or 1 for short words), else "".
func suggest(s string, candidates []string) string {
	within := 2
	if len(s) <= 3 {
		within = 1
	}
	return typo.Nearest(s, candidates, within)
}

// subcommandError refuses a missing or unknown subcommand, naming the
// likely one.
func subcommandError(cmd, got string, valid ...string) error {
	if got == "" {
		return exitf(ExitUsage, "%s needs one of: %s; see vipagent %s --help", cmd, strings.Join(valid, ", "), cmd)
	}
	if s := suggest(got, valid); s != "" {
		return exitf(ExitUsage, "unknown %s subcommand %q (did you mean %q?); see vipagent %s --help", cmd, got, s, cmd)
	}
	return exitf(ExitUsage, "unknown %s subcommand %q: one of %s; see vipagent %s --help", cmd, got, strings.Join(valid, ", "), cmd)
}
