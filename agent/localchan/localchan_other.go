//go:build !linux

package localchan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/vipagent/vipagent/agent/config"
)

// Listen is the local channel's listener; only Linux has one so far.
func Listen(l config.Local) (net.Listener, error) {
	return nil, fmt.Errorf("local.socket: %w on this system", errors.ErrUnsupported)
}

// Self is the account the agent runs as.
func Self() uint32 { return uint32(os.Geteuid()) }

// CheckPath refuses: without a listener there is nothing to trust.
func CheckPath(path, dataDir string) error {
	return fmt.Errorf("the local channel: %w on this system", errors.ErrUnsupported)
}

// Dial refuses, like CheckPath.
func Dial(ctx context.Context, path string) (net.Conn, error) {
	return nil, fmt.Errorf("the local channel: %w on this system", errors.ErrUnsupported)
}
