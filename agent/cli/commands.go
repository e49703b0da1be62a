package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// command describes one vipagent command for its help; its flags come from
// the flag set the command builds, so the help cannot drift from them.
type command struct {
	name     string
	synopsis []string // after "vipagent "
	summary  string
	examples []string
	// shared lists the shared flags (see newFlags) the command takes.
	shared []string
}

var (
	clientFlags = []string{"config", "data", "agent", "json"}
	// commands in the order the usage lists them.
	commands = []*command{
		{name: "serve", synopsis: []string{"serve [--config FILE] [--listen ADDR] [--data DIR]"},
			summary:  "Run the agent: HTTP API, journal, report outbox, scheduled jobs. SIGHUP reloads the config; SIGINT/SIGTERM stop it gracefully.",
			examples: []string{"vipagent serve --config /etc/vipagent/vipagent.yaml"},
			shared:   []string{"config", "data"}},
		{name: "demo", synopsis: []string{"demo [--keep]"},
			summary:  "Run the built-in demo end to end: an agent on a loopback port, alarms, a duplicate, a replay. Changes nothing on the host.",
			examples: []string{"vipagent demo"},
			shared:   []string{"config"}},
		{name: "fire", synopsis: []string{"fire --condition NAME | --event-id ID --application APP [--host H] [--severity S] [--text T] [--id KEY] [--label k=v]... [--dry-run]"},
			summary: "Hand an alarm to the local agent and print its result (an SCS alarm reaction runs this). With --dry-run, print the rule that matches and its plan, and touch nothing.",
			examples: []string{"vipagent fire --config vipagent.yaml --condition RM1_Stopped",
				"vipagent fire --event-id 00-04504 --application RM_1 --dry-run"},
			shared: append([]string{"dry-run"}, clientFlags...)},
		{name: "failover", synopsis: []string{"failover enable|disable [MEMBERID [ARGS...]] [--dry-run]"},
			summary: "RM's failoverscript hook, with NLB.bat's convention: `enable X` makes member X the only holder of the failover VIPs, `disable` releases them on this host. Words RM adds after the member ID are journaled. With --dry-run, print the plan and touch nothing.",
			examples: []string{"vipagent failover enable 2 --config vipagent.yaml",
				"vipagent failover disable 1",
				"vipagent failover enable 1 --dry-run"},
			shared: append([]string{"dry-run"}, clientFlags...)},
		{name: "replay", synopsis: []string{"replay ID|latest [--dry-run]"},
			summary:  "Run a journaled event's reaction again, as a new event; with --dry-run show the plan and the observed state without acting.",
			examples: []string{"vipagent replay rm1-20261125T101500-000001 --dry-run"},
			shared:   append([]string{"dry-run"}, clientFlags...)},
		{name: "events", synopsis: []string{"events list [--status S] [--limit N] [--cursor C]", "events show ID|latest"},
			summary:  "List journaled events, newest first, or show one with its result.",
			examples: []string{"vipagent events list --status failed", "vipagent events show rm1-20261125T101500-000001 --json"},
			shared:   clientFlags},
		{name: "vip", synopsis: []string{"vip status [NAME]", "vip status --pair", "vip enable NAME [--force] [--reason R]", "vip disable NAME [--reason R]"},
			summary: "Show or change this node's VIPs. `status --pair` shows every node of the pair: exit 0 when every node answered and exactly one holds each VIP, 1 when a VIP is on two nodes or (every node answering) on none, 4 when a node could not be asked (down, unreachable, or without nodes.NAME.url as in the built-in configuration).",
			examples: []string{"vipagent vip status", "vipagent vip status --pair --json",
				"vipagent vip disable rm-vip --reason maintenance"},
			shared: clientFlags},
		{name: "reports", synopsis: []string{"reports list [--state S] [--limit N]", "reports retry ID"},
			summary:  "List the report outbox, or send a report again.",
			examples: []string{"vipagent reports list --state rejected"},
			shared:   clientFlags},
		{name: "rules", synopsis: []string{"rules test --condition C [--event-id N] [--application A] [--host H] [--severity S] [--label k=v]..."},
			summary:  "Print which reaction rule an alarm matches and the plan it would run (steps, nodes, conditions). Reads only the config: touches nothing.",
			examples: []string{"vipagent rules test --config vipagent.yaml --condition RM1_Stopped", "vipagent rules test --event-id 00-04504 --application RM_1 --json"},
			shared:   []string{"config", "json"}},
		{name: "config", synopsis: []string{"config check"},
			summary:  "Check a configuration: every problem at once, exit 2 if there is one.",
			examples: []string{"vipagent config check --config vipagent.yaml"},
			shared:   []string{"config", "json"}},
		{name: "journal", synopsis: []string{"journal check [--data DIR]", "journal salvage --from FILE [--data DIR]"},
			summary:  "Check the journal without an agent (exit 0 clean, 1 damaged, 2 unreadable), or copy what can be read from a damaged file into a fresh journal.",
			examples: []string{"vipagent journal check --data /var/lib/vipagent"},
			shared:   []string{"config", "data", "json"}},
		{name: "genesys", synopsis: []string{"genesys --out DIR"},
			summary:  "Write the Genesys objects (application templates, applications, alarm reaction scripts, alarm conditions, RM options) and a guide, generated from the config.",
			examples: []string{"vipagent genesys --config vipagent.yaml --out genesys"},
			shared:   []string{"config"}},
		{name: "version", synopsis: []string{"version"},
			summary:  "Print the version (from the build's VCS information).",
			examples: []string{"vipagent version --json"},
			shared:   []string{"json"}},
		{name: "help", synopsis: []string{"help [COMMAND]"},
			summary:  "Print the usage, or a command's help.",
			examples: []string{"vipagent help failover"}},
	}
)

func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func commandNames() []string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return names
}

const exitCodes = `Exit codes:
  0  succeeded
  1  a step failed or timed out, or the event was superseded
  2  bad usage, configuration or input, or an agent that is not this
     config's (nothing was done)
  3  no reaction rule matched the alarm
  4  not accepted: no agent answered in time (and running in-process was
     impossible), or the request expired; nothing was done by it
  5  accepted as an event, outcome unknown (see: vipagent events show ID)
`

// printHelp prints a command's help: synopsis, what it does, its flags with
// their defaults (from fs), examples and the exit codes.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	c := lookupCommand(fs.Name())
	if c == nil {
		fmt.Fprint(w, usage)
		return
	}
	fmt.Fprintln(w, "Usage:")
	for _, s := range c.synopsis {
		fmt.Fprintf(w, "  vipagent %s\n", s)
	}
	fmt.Fprintf(w, "\n%s\n", wrap(c.summary, 76))
	if flagNames(fs) != nil {
		fmt.Fprintln(w, "\nFlags:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(tw, "  %s\t%s\n", flagSynopsis(f), flagUsage(f))
		})
		tw.Flush()
	}
	if len(c.examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, exitCodes)
}

// flagSynopsis is "--name VALUE", the value named by the usage's
// `backquoted` word or by its type.
func flagSynopsis(f *flag.Flag) string {
	if isBoolFlag(f) {
		return dashed(f.Name)
	}
	name, _ := flag.UnquoteUsage(f)
	switch f.Value.(type) {
	case *durationValue:
		name = "DURATION"
	case labelsFlag:
		name = "KEY=VALUE"
	}
	if name == "" || name == "value" {
		name = "VALUE"
	}
	return dashed(f.Name) + " " + strings.ToUpper(name)
}

func flagUsage(f *flag.Flag) string {
	_, u := flag.UnquoteUsage(f)
	if _, ok := f.Value.(labelsFlag); ok {
		return u + " (repeatable)"
	}
	if isBoolFlag(f) || f.DefValue == "" || f.DefValue == "0" || strings.Contains(u, "default") {
		return u
	}
	return fmt.Sprintf("%s (default %s)", u, f.DefValue)
}

// wrap breaks s into lines of at most n characters.
func wrap(s string, n int) string {
	var b strings.Builder
	line := 0
	for _, w := range strings.Fields(s) {
		if line > 0 && line+1+len(w) > n {
			b.WriteByte('\n')
			line = 0
		} else if line > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}
