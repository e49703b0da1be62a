//go:build !linux && !windows

package localchan

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/vipagent/vipagent/agent/config"
)

// Listen is the local channel's listener; only Linux has one so far.
func Listen(l config.Local) (net.Listener, error) {
	return nil, fmt.Errorf("local.socket: %w on this system", errors.ErrUnsupported)
}

// Present: there is never a local channel here.
func Present(path string) bool { return false }

// CheckPath refuses: without a listener there is nothing to trust.
func CheckPath(path, dataDir string) error {
	return fmt.Errorf("the local channel: %w on this system", errors.ErrUnsupported)
}

// Dial refuses, like CheckPath.
func Dial(ctx context.Context, path, dataDir string) (net.Conn, error) {
	return nil, fmt.Errorf("the local channel: %w on this system", errors.ErrUnsupported)
}
