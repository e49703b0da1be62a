package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// checkHostPort says why s is not host:port with a numeric port in range,
// or "". Service names (":http") are refused: Windows and Linux resolve them
// differently, and serve would otherwise find out at bind time.
func checkHostPort(s string, allowZero bool) string {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("%q is not host:port", s)
	}
	return checkPort(port, allowZero)
}

// CheckListen says why s cannot be the API's listen address, or "": what
// Validate checks of listen, for `serve --listen`.
func CheckListen(s string) string { return checkHostPort(s, true) }

func checkPort(port string, allowZero bool) string {
	n, err := strconv.Atoi(port)
	lo := 1
	if allowZero {
		lo = 0
	}
	if err != nil || n < lo || n > 65535 || port != strconv.Itoa(n) {
		return fmt.Sprintf("port %q is not a number from %d to 65535", port, lo)
	}
	return ""
}

// checkHTTPURL says why s is not an http(s) URL with a host (and a valid
// port, when it names one), or "".
func checkHTTPURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "not an http(s) URL"
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		if why := checkPort(p, false); why != "" {
			return why
		}
	}
	return ""
}

// checkPeerURL says why s cannot be a peer agent's base URL, or "": an
// http(s) URL without credentials, query or fragment. The peer's token
// goes in nodes.NAME.token: a secret in the URL would be printed in step
// errors, logs and the pair's view.
func checkPeerURL(s string) string {
	if why := checkHTTPURL(s); why != "" {
		return why
	}
	u, _ := url.Parse(s)
	switch {
	case u.User != nil:
		return "holds a user name or password (user@host): give the peer's token in token (file:PATH), never in the URL"
	case u.RawQuery != "" || u.ForceQuery:
		return "holds a query (?...): the peer URL is the agent's base URL, e.g. https://198.51.100.11:8470; give the token in token (file:PATH)"
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "holds a fragment (#...): the peer URL is the agent's base URL, e.g. https://198.51.100.11:8470"
	}
	return ""
}

// validateAddresses refuses VIPs that are not one host's address (0.0.0.0/0,
// ::/0, an unspecified address) and two VIPs with the same address: they
// would fight over one address on the wire.
func (c *Config) validateAddresses(p *Problems) {
	owner := map[netip.Addr]string{}
	for _, name := range sortedKeys(c.VIPs) {
		pr, err := netip.ParsePrefix(c.VIPs[name].Address)
		if err != nil {
			continue // reported by validateVIPs
		}
		path := "vips." + name + ".address"
		if pr.Bits() == 0 || pr.Addr().IsUnspecified() {
			p.add(path, "%s is not one host's address: a VIP is a single address with its subnet's prefix length, e.g. 192.0.2.100/24", pr)
			continue
		}
		addr := pr.Addr().Unmap()
		if other, dup := owner[addr]; dup {
			p.add(path, "%s is also the address of vips.%s: two VIPs cannot move one address", addr, other)
			continue
		}
		owner[addr] = name
	}
}

// validateNameCase refuses names that differ only in case: Windows host and
// connection names, Genesys object names and people's eyes do not tell
// RM1 from rm1.
func (c *Config) validateNameCase(p *Problems) {
	check := func(section string, names []string) {
		first := map[string]string{}
		for _, n := range names {
			k := strings.ToLower(n)
			if prev, dup := first[k]; dup && prev != n {
				p.add(section+"."+n, "differs from %s.%s only in case; use one spelling", section, prev)
				continue
			}
			first[k] = n
		}
	}
	check("nodes", sortedKeys(c.Nodes))
	check("vips", sortedKeys(c.VIPs))
	check("commands", sortedKeys(c.Commands))
	var reactionNames, reportNames []string
	for _, r := range c.Reactions {
		reactionNames = append(reactionNames, r.Name)
	}
	for _, r := range c.Reports {
		reportNames = append(reportNames, r.Name)
	}
	check("reactions", reactionNames)
	check("reports", reportNames)
}

// validateDurations refuses durations that make no sense at zero or below:
// a shutdown_grace of -1s would cancel running events at SIGTERM, a
// report_max_age of 0s would expire every report before its first attempt.
func (c *Config) validateDurations(p *Problems) {
	for _, d := range []struct {
		path string
		v    Duration
	}{
		{"step_timeout", c.StepTimeout},
		{"auth.max_skew", c.Auth.MaxSkew},
		{"limits.read_timeout", c.Limits.ReadTimeout},
		{"limits.write_timeout", c.Limits.WriteTimeout},
		{"limits.shutdown_grace", c.Limits.ShutdownGrace},
		{"schedules.prune_age", c.Schedules.PruneAge},
		{"schedules.report_max_age", c.Schedules.ReportMaxAge},
	} {
		if d.v <= 0 {
			p.add(d.path, "%s: must be positive", d.v.D())
		}
	}
	for i, r := range c.Reports {
		if r.Timeout < 0 {
			p.add(fmt.Sprintf("reports[%d].timeout", i), "%s: must not be negative (0 means the default)", r.Timeout.D())
		}
	}
	if c.Limits.RatePerMinute < 0 {
		p.add("limits.rate_per_minute", "must not be negative (0 turns the limit off)")
	}
	if c.Schedules.PruneKeep < 1 {
		p.add("schedules.prune_keep", "must be at least 1")
	}
	if c.Log.MaxSizeMB < 0 || c.Log.MaxFiles < 0 {
		p.add("log", "max_size_mb and max_files must not be negative")
	}
}
