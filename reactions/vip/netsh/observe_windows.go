//go:build windows

package netsh

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/windows"
)

// observeSystem finds the address with Go's net package and then asks the
// IP Helper API (GetAdaptersAddresses) for its duplicate address detection
// state, which netsh only reports as localised text.
func observeSystem(ctx context.Context, ifname string, addr netip.Addr) (observation, error) {
	if err := ctx.Err(); err != nil {
		return observation{}, err
	}
	o, ifi, err := interfaceAddrs(ifname, addr)
	if err != nil || !o.Configured {
		return o, err
	}
	dad, err := dadOf(uint32(ifi.Index), addr)
	if err != nil {
		return o, fmt.Errorf("duplicate address detection state of %s on %q: %w", addr, ifname, err)
	}
	o.DAD = dad
	return o, nil
}

func dadOf(index uint32, addr netip.Addr) (dadState, error) {
	const flags = windows.GAA_FLAG_SKIP_ANYCAST | windows.GAA_FLAG_SKIP_MULTICAST | windows.GAA_FLAG_SKIP_DNS_SERVER
	size := uint32(15 << 10)
	for range 5 {
		buf := make([]byte, size)
		first := (*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0]))
		err := windows.GetAdaptersAddresses(windows.AF_UNSPEC, flags, 0, first, &size)
		if errors.Is(err, windows.ERROR_BUFFER_OVERFLOW) {
			continue
		}
		if err != nil {
			return dadUnknown, fmt.Errorf("GetAdaptersAddresses: %w", err)
		}
		for a := first; a != nil; a = a.Next {
			if a.IfIndex != index && a.Ipv6IfIndex != index {
				continue
			}
			for u := a.FirstUnicastAddress; u != nil; u = u.Next {
				ip, ok := netip.AddrFromSlice(u.Address.IP())
				if ok && ip.Unmap() == addr.Unmap() {
					return fromNlDadState(u.DadState), nil
				}
			}
		}
		// Listed by net.Interface a moment ago, gone now: it was removed.
		return dadInvalid, nil
	}
	return dadUnknown, errors.New("GetAdaptersAddresses: buffer kept growing")
}

func fromNlDadState(s int32) dadState {
	switch s {
	case windows.IpDadStateTentative:
		return dadTentative
	case windows.IpDadStateDuplicate:
		return dadDuplicate
	case windows.IpDadStateDeprecated:
		return dadDeprecated
	case windows.IpDadStatePreferred:
		return dadPreferred
	}
	return dadInvalid
}
