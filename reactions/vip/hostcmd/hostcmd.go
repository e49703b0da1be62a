// Package hostcmd holds what the command-driven VIP backends (netsh, nlb,
// script) share: argument lists with ${name} placeholders, and programs
// resolved from the Windows system directory instead of PATH or the working
// directory.
//
// Placeholders are written ${name}, as everywhere in vipagent (see package
// reactions).
package hostcmd

import (
	"context"
	"fmt"
	"time"

	"github.com/vipagent/vipagent/reactions"
)

// Expand fills the ${name} placeholders (see package reactions) of every
// element of tmpl from values. An unknown placeholder, an unclosed "${", a
// value holding NUL or a line break, and a placeholder in the program
// (tmpl[0]) are errors, so a mistake is caught when the backend is built.
func Expand(tmpl []string, values map[string]string) ([]string, error) {
	if len(tmpl) > 0 && reactions.HasPlaceholder(tmpl[0]) {
		return nil, fmt.Errorf("the program cannot be a placeholder (%q)", tmpl[0])
	}
	out := make([]string, 0, len(tmpl))
	for _, t := range tmpl {
		s, err := reactions.ExpandMap(t, values)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ObserveTimeout bounds an observation whose context carries no deadline
// (the engine observes once more, without its step deadline, to record what
// a failed act left behind). wlbs and scripts can hang; an observation must
// not.
const ObserveTimeout = 30 * time.Second

// BoundObserve returns ctx unchanged when it has a deadline, and otherwise
// a context that ends after ObserveTimeout.
func BoundObserve(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, ObserveTimeout)
}

// Poll calls check every interval until it reports done, fails, or ctx
// ends. It returns check's error, or ctx.Err() when the context ended first.
func Poll(ctx context.Context, interval time.Duration, check func() (done bool, err error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
