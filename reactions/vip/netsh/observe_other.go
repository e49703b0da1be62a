//go:build !windows

package netsh

import (
	"context"
	"net/netip"
)

// observeSystem sees presence only: other systems have no Windows DAD
// state, and netsh runs here only against test fakes.
func observeSystem(ctx context.Context, ifname string, addr netip.Addr) (observation, error) {
	if err := ctx.Err(); err != nil {
		return observation{}, err
	}
	o, _, err := interfaceAddrs(ifname, addr)
	return o, err
}
