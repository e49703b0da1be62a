package engine

import (
	"context"

	"github.com/vipagent/vipagent/reactions"
)

// Backend moves one VIP on this host. Every call is bounded by ctx; a
// backend that starts programs stops them (and their children) when ctx
// ends.
type Backend interface {
	// Observe reports whether the VIP is present on this host.
	Observe(ctx context.Context) (reactions.VIPState, error)
	// Enable brings the VIP up and announces it. Unless force is set it
	// first probes whether another host answers for the address and, if one
	// does, refuses with an error wrapping reactions.ErrDuplicateAddress
	// that names the answering MAC.
	Enable(ctx context.Context, force bool) error
	// Disable removes the VIP. Removing is always allowed.
	Disable(ctx context.Context) error
}

// Verifier is implemented by backends whose state settles after the act
// (Windows marks a new address tentative during duplicate address
// detection). Verify waits, bounded by ctx, until the VIP is observed as
// want, and fails clearly if it never is. Backends without it are verified
// by one Observe.
type Verifier interface {
	Verify(ctx context.Context, want bool) (reactions.VIPState, error)
}

// ReleasedEnabler is implemented by backends whose duplicate-address probe
// can be shortened when the previous holder's agent has just verified, in
// the same event, that it removed the VIP: the probe then only has to catch
// a third host. The engine calls EnableReleased instead of Enable(ctx,
// false) in that case, so the probe's wait does not lengthen every move.
type ReleasedEnabler interface {
	EnableReleased(ctx context.Context) error
}
