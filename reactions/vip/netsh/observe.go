package netsh

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// observeFunc reports what the host shows of addr on the interface. The
// backend keeps one in an unexported field so that tests can swap it: on
// Linux a fake netsh cannot change real interfaces, so the tests pair it
// with an observer that reads the fake's state file.
type observeFunc func(ctx context.Context, ifname string, addr netip.Addr) (observation, error)

// interfaceAddrs reads the interface's addresses through Go's net package,
// which works on every OS (on Windows it lists addresses in every DAD
// state, so it says "configured", never "usable").
func interfaceAddrs(ifname string, addr netip.Addr) (observation, *net.Interface, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return observation{}, nil, fmt.Errorf("interface %q: %w", ifname, err)
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return observation{}, nil, fmt.Errorf("addresses of %q: %w", ifname, err)
	}
	var o observation
	seen := make([]string, 0, len(addrs))
	for _, a := range addrs {
		seen = append(seen, a.String())
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap() == addr.Unmap() {
			o.Configured = true
		}
	}
	o.Seen = strings.Join(seen, ", ")
	if o.Seen == "" {
		o.Seen = "none"
	}
	return o, ifi, nil
}
