package cli

import (
	"fmt"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/genesys"
)

// cmdGenesys writes the Genesys objects (templates, applications, scripts,
// alarm conditions, RM options) and the guide that goes with them.
func cmdGenesys(args []string, env Env) error {
	var c common
	fs := newFlags("genesys", env, &c)
	out := fs.String("out", "", "directory to write the guide and the Genesys objects to")
	pos, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *out == "" {
		return exitf(ExitUsage, "usage: vipagent genesys --config FILE --out DIR")
	}
	cfg, err := config.Load(config.Choose(c.config, env.Stderr), env.Getenv)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	objs, err := genesys.Build(cfg)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	for _, w := range objs.Warnings {
		fmt.Fprintln(env.Stderr, "warning:", w)
	}
	files, err := genesys.Render(objs)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if err := genesys.Write(*out, files); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %d files to %s; start with %s\n", len(files), *out, *out+"/GUIDE.md")
	return nil
}
