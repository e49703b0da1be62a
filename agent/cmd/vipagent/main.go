// Command vipagent moves a Resource Manager's virtual IP safely; see the
// README or `vipagent --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/vipagent/vipagent/agent/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default: a second one ends the process at once.
	go func() { <-ctx.Done(); stop() }()
	if err := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		cli.PrintError(os.Stderr, err)
		os.Exit(cli.ExitCode(err))
	}
}
