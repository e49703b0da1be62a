//go:build !linux

package netlinkvip

import (
	"context"
	"errors"
	"fmt"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip"
)

// Backend is the netlink VIP backend; it exists only on Linux.
type Backend struct{}

// New checks the options and fails: netlink is Linux only.
func New(spec vip.Spec, raw map[string]any) (*Backend, error) {
	if _, err := parseOptions(spec, raw); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("netlink backend: %w", errors.ErrUnsupported)
}

func (b *Backend) Observe(ctx context.Context) (reactions.VIPState, error) {
	return reactions.VIPState{}, fmt.Errorf("netlink backend: %w", errors.ErrUnsupported)
}

func (b *Backend) Enable(ctx context.Context, force bool) error {
	return fmt.Errorf("netlink backend: %w", errors.ErrUnsupported)
}

func (b *Backend) EnableReleased(ctx context.Context) error {
	return fmt.Errorf("netlink backend: %w", errors.ErrUnsupported)
}

func (b *Backend) Disable(ctx context.Context) error {
	return fmt.Errorf("netlink backend: %w", errors.ErrUnsupported)
}

// Close does nothing.
func (b *Backend) Close() error { return nil }
