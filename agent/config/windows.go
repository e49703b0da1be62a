package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"time"
)

// netshSlowestChange is how long netsh can take to change an address, by
// Genesys' own measure ("as long as 30-45 seconds"); the netsh backend
// waits as long before it gives up retrying (netsh.SlowestChange).
const netshSlowestChange = 45 * time.Second

// windowsWarnings are what the Windows backends need that a config can
// get wrong without being invalid: a netsh timeout netsh can outlast, and
// a peer url that an NLB cluster in unicast mode makes unreachable.
func (c *Config) windowsWarnings() []string {
	var w []string
	for _, name := range sortedKeys(c.VIPs) {
		v := c.VIPs[name]
		switch v.Backend {
		case "netsh":
			if d := v.Timeout.D(); d > 0 && d < netshSlowestChange {
				w = append(w, fmt.Sprintf("vips.%s.timeout: %s is less than the 45s netsh can take to change an address: the step would be killed mid-change; leave it unset (90s) or set 60s or more", name, d))
			}
		case "nlb":
			pr, err := netip.ParsePrefix(v.Address)
			if err != nil {
				continue
			}
			pr = pr.Masked()
			for _, node := range sortedKeys(c.Nodes) {
				if node == c.Node {
					continue
				}
				if a, ok := urlAddr(c.Nodes[node].URL); ok && pr.Contains(a) {
					w = append(w, fmt.Sprintf("nodes.%s.url: %s is in the subnet of the NLB adapter (vips.%s.address %s): in unicast mode the NLB adapters cannot reach each other, so use the address of the other NIC, the one RM's member.N uses", node, a, name, v.Address))
				}
			}
		}
	}
	return w
}

// urlAddr is the IP address a url names, when it names one.
func urlAddr(raw string) (netip.Addr, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(u.Hostname())
	return a.Unmap(), err == nil
}
