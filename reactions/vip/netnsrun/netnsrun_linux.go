// Package netnsrun runs a function inside a Linux network namespace, for
// the netlink backend (its sockets must belong to the VIP's namespace) and
// for the test lab.
package netnsrun

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// Run runs f on an OS thread switched into ns and waits for it. Sockets f
// opens belong to ns and stay there; programs f starts inherit ns;
// goroutines f starts do not. A thread that cannot be switched back is left
// locked, and the runtime throws it away instead of reusing it in the wrong
// namespace.
func Run(ns netns.NsHandle, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("current namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter namespace: %w", err)
			return
		}
		ferr := f()
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("restore namespace: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
