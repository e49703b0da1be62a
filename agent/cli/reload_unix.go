//go:build !windows

package cli

import (
	"os"
	"os/signal"
	"syscall"
)

// reloadSignals delivers SIGHUP, the signal keepalived, Prometheus and
// logrotate use for "read your configuration again"; stop restores its
// default.
func reloadSignals() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	return ch, func() { signal.Stop(ch) }
}
