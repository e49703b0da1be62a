package netsh

import (
	"fmt"
	"net/netip"

	"github.com/vipagent/vipagent/reactions"
)

// dadState is Windows' duplicate address detection state of an address
// (NL_DAD_STATE). On other systems it is dadUnknown.
type dadState int

const (
	dadUnknown    dadState = iota // this OS does not say
	dadInvalid                    // IpDadStateInvalid
	dadTentative                  // still probing
	dadDuplicate                  // another host answers for it: unusable
	dadDeprecated                 // usable, not preferred as a source
	dadPreferred                  // usable
)

func (d dadState) String() string {
	switch d {
	case dadInvalid:
		return "invalid"
	case dadTentative:
		return "tentative"
	case dadDuplicate:
		return "duplicate"
	case dadDeprecated:
		return "deprecated"
	case dadPreferred:
		return "preferred"
	}
	return "dad state unknown"
}

// observation is what the host shows of the VIP's address.
type observation struct {
	// Configured says the address is on the interface in any state.
	Configured bool
	DAD        dadState
	// Seen lists the interface's addresses, for people.
	Seen string
}

// held reports whether the host really holds the address: configured and
// not refused by duplicate address detection. Windows keeps a duplicate
// address configured but never uses it, so it counts as absent.
func (o observation) held() bool {
	return o.Configured && o.DAD != dadDuplicate && o.DAD != dadInvalid
}

func (o observation) vipState(addr netip.Prefix, ifname string) reactions.VIPState {
	var what string
	switch {
	case !o.Configured:
		what = "absent"
	case o.DAD == dadDuplicate:
		what = "configured but marked duplicate by Windows (another host answers for it)"
	case o.DAD == dadUnknown:
		what = "present"
	default:
		what = "present (" + o.DAD.String() + ")"
	}
	return reactions.VIPState{
		Present: o.held(),
		Detail:  fmt.Sprintf("netsh: %s on %q: %s; addresses seen: %s", addr, ifname, what, o.Seen),
	}
}

// settled decides, for a wanted presence, whether the address has reached
// it (done), must be waited for (tentative, not yet listed), or never will
// (duplicate).
func settled(o observation, want bool) (done bool, err error) {
	if !want {
		return !o.held(), nil
	}
	switch {
	case o.Configured && o.DAD == dadDuplicate:
		return false, fmt.Errorf("windows marked the address duplicate during duplicate address detection: %w", reactions.ErrDuplicateAddress)
	case !o.Configured, o.DAD == dadTentative, o.DAD == dadInvalid:
		return false, nil
	}
	return true, nil
}
