// Package netlinkvip is the Linux in-process VIP backend (`backend:
// netlink`): it adds and removes the address over netlink, probes before
// enabling whether another host already answers for it (an RFC 5227 ARP
// probe for IPv4, a duplicate address detection Neighbour Solicitation for
// IPv6), and announces the move with gratuitous ARP or an unsolicited
// Neighbour Advertisement on a raw packet socket. Nothing is shelled out:
// the point of this backend is a VIP move measured in milliseconds.
package netlinkvip

import (
	"errors"
	"fmt"
	"time"

	"github.com/vipagent/vipagent/reactions/vip"
)

// Options are the netlink backend's configuration options.
type Options struct {
	// GARPCount is how many announcements are sent (default 3; 0 sends
	// none). The first goes out before Enable returns, the rest follow in
	// the background.
	GARPCount *int `yaml:"garp_count"`
	// GARPInterval is the time between announcements (default "200ms").
	GARPInterval string `yaml:"garp_interval"`
	// ProbeTimeout is how long Enable waits for another host to answer its
	// duplicate address probe (default "100ms") when nothing is known about
	// the previous holder, e.g. after its node was unreachable. Raise it on
	// slow or congested networks.
	ProbeTimeout string `yaml:"probe_timeout"`
	// ReleasedProbeTimeout replaces ProbeTimeout when the previous holder's
	// agent has just verified that it removed the VIP (default "1ms"): the
	// probe then only has to catch a third host, and it is part of the
	// outage of every move. On a LAN a holder answers an ARP probe in well
	// under a millisecond.
	ReleasedProbeTimeout string `yaml:"released_probe_timeout"`
}

type settings struct {
	garpCount    int
	garpInterval time.Duration
	probeTimeout time.Duration
	// releasedProbeTimeout is used by EnableReleased.
	releasedProbeTimeout time.Duration
}

const (
	defaultGARPCount            = 3
	defaultGARPInterval         = 200 * time.Millisecond
	defaultProbeTimeout         = 100 * time.Millisecond
	defaultReleasedProbeTimeout = time.Millisecond
)

func parseOptions(spec vip.Spec, raw map[string]any) (settings, error) {
	var o Options
	if err := vip.DecodeOptions(raw, &o); err != nil {
		return settings{}, err
	}
	s := settings{garpCount: defaultGARPCount, garpInterval: defaultGARPInterval,
		probeTimeout: defaultProbeTimeout, releasedProbeTimeout: defaultReleasedProbeTimeout}
	var errs []error
	if !spec.Prefix.IsValid() {
		errs = append(errs, errors.New("address: not an IP prefix"))
	}
	if spec.Interface == "" {
		errs = append(errs, errors.New("interface: required"))
	}
	if o.GARPCount != nil {
		if *o.GARPCount < 0 || *o.GARPCount > 100 {
			errs = append(errs, fmt.Errorf("options.garp_count: %d is not between 0 and 100", *o.GARPCount))
		}
		s.garpCount = *o.GARPCount
	}
	if o.GARPInterval != "" {
		d, err := time.ParseDuration(o.GARPInterval)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("options.garp_interval: %q is not a positive duration", o.GARPInterval))
		}
		s.garpInterval = d
	}
	if o.ProbeTimeout != "" {
		d, err := time.ParseDuration(o.ProbeTimeout)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("options.probe_timeout: %q is not a positive duration", o.ProbeTimeout))
		}
		s.probeTimeout = d
	}
	if o.ReleasedProbeTimeout != "" {
		d, err := time.ParseDuration(o.ReleasedProbeTimeout)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("options.released_probe_timeout: %q is not a positive duration", o.ReleasedProbeTimeout))
		}
		s.releasedProbeTimeout = d
	}
	return s, errors.Join(errs...)
}
