package cli

import (
	"fmt"

	"github.com/vipagent/vipagent/agent/version"
)

func cmdVersion(args []string, env Env) error {
	var c common
	fs := newFlags("version", env, &c)
	pos, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return exitf(ExitUsage, "version: unexpected argument %q", pos[0])
	}
	in := version.Get()
	return printJSONOr(env, c.json, in, func() {
		fmt.Fprintf(env.Stdout, "vipagent %s", in.Version)
		if in.Commit != "" {
			fmt.Fprintf(env.Stdout, " (commit %s", in.Commit)
			if in.Modified {
				fmt.Fprint(env.Stdout, ", modified")
			}
			fmt.Fprint(env.Stdout, ")")
		}
		fmt.Fprintf(env.Stdout, " %s\n", in.Go)
	})
}
