package config

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/vipagent/vipagent/reactions"
)

// knownBackends are checked here; their options are checked by the backends.
var knownBackends = []string{"fake", "netlink", "ip", "netsh", "nlb", "script"}

// minTokenLen is the shortest bearer token the API accepts.
const minTokenLen = 16

// add records one problem at path.
func (p *Problems) add(path, format string, args ...any) {
	*p = append(*p, path+": "+fmt.Sprintf(format, args...))
}

// Validate reports every problem at once, each with its config path, and
// looks up the secrets. A secret whose reference is well formed but cannot
// be resolved (an unset variable, an unreadable file) is not a problem here:
// Resolve reports it where the secret is used, and SecretProblems lists them
// all for `config check` and `serve`.
func (c *Config) Validate(getenv func(string) string) error {
	var p Problems
	c.PermissionWarnings = nil
	c.validateTop(&p)
	c.validateNodes(&p, getenv)
	c.validateVIPs(&p)
	c.validateCommands(&p)
	c.validateReactions(&p)
	c.validateReports(&p, getenv)
	c.validateAuth(&p, getenv)
	c.validateLocal(&p)
	c.validateLimits(&p)
	c.validateAddresses(&p)
	c.validateNameCase(&p)
	c.validateDurations(&p)
	c.validateJournal(&p)
	c.validateConnections(&p)
	for _, prob := range c.Genesys.validate(c) {
		p = append(p, "genesys."+prob)
	}
	if len(p) > 0 {
		return p
	}
	return nil
}

func (c *Config) validateTop(p *Problems) {
	if c.Node == "" {
		p.add("node", "required")
	} else if _, ok := c.Nodes[c.Node]; !ok {
		p.add("node", "%q is not one of nodes", c.Node)
	}
	if why := checkHostPort(c.Listen, true); why != "" {
		p.add("listen", "%s", why)
	}
	if c.DataDir == "" {
		p.add("data_dir", "required")
	}
	for i, h := range c.CallbackHosts {
		if h == "" || strings.ContainsAny(h, "/ \t") {
			p.add(fmt.Sprintf("callback_hosts[%d]", i), "must be a host name or host:port")
		}
	}
	if c.Alertmanager.Resolved != "ignore" && c.Alertmanager.Resolved != "match" {
		p.add("alertmanager.resolved", "must be ignore or match")
	}
	for _, v := range c.Failover.VIPs {
		if _, ok := c.VIPs[v]; !ok {
			p.add("failover.vips", "%q is not one of vips", v)
		}
	}
	switch c.Log.Format {
	case "json", "console", "auto":
	default:
		p.add("log.format", "must be json, console or auto")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		p.add("log.level", "must be debug, info, warn or error")
	}
}

// validateNodes checks the pair's members. A peer without url is allowed
// (the built-in default has one): steps on it fail, and Warnings says so.
func (c *Config) validateNodes(p *Problems, getenv func(string) string) {
	members := map[int]string{}
	for _, name := range sortedKeys(c.Nodes) {
		n := c.Nodes[name]
		path := "nodes." + name
		if !ValidName(name) {
			p.add(path, "name must be letters, digits, '.', '_' or '-'")
		}
		if n.URL != "" {
			if why := checkPeerURL(n.URL); why != "" {
				p.add(path+".url", "%s", why)
			}
		}
		if n.RMAddress != "" {
			if why := checkHostPort(n.RMAddress, false); why != "" {
				p.add(path+".rm_address", "%s", why)
			}
		}
		switch other, dup := members[n.MemberID]; {
		case n.MemberID < 0:
			p.add(path+".member_id", "must not be negative")
		case dup:
			p.add(path+".member_id", "%d is also the member_id of %s: `failover enable %d` would not know which node is meant",
				n.MemberID, other, n.MemberID)
		case n.MemberID > 0:
			members[n.MemberID] = name
		}
		seenMAC := map[string]string{}
		for i, mac := range n.NICs {
			hw, err := ParseMAC(mac)
			switch first, dup := seenMAC[hw.String()]; {
			case err != nil:
				p.add(fmt.Sprintf("%s.nics[%d]", path, i), "%v", err)
			case dup:
				p.add(fmt.Sprintf("%s.nics[%d]", path, i), "%s is listed twice (also as %s)", mac, first)
			default:
				seenMAC[hw.String()] = mac
			}
		}
		if prob := n.Token.load(path+".token", getenv, 0); prob != "" {
			p.add(path+".token", "%s", prob)
		}
		c.Nodes[name] = n
	}
}

// ParseMAC parses a NIC's 48-bit MAC address as `ipconfig /all`
// (00-0F-1F-6D-EB-CA) or `ip link` (00:0f:1f:6d:eb:ca) prints it.
// A NIC's own address is unicast and not all zeros: a multicast or
// broadcast address (the group bit of the first octet set, e.g. NLB's
// multicast 03-BF-...) or 00-00-00-00-00-00 names no NIC RM could monitor.
func ParseMAC(s string) (net.HardwareAddr, error) {
	hw, err := net.ParseMAC(s)
	switch {
	case err != nil || len(hw) != 6:
		return nil, fmt.Errorf("%q is not a MAC address such as 00-0F-1F-6D-EB-CA", s)
	case hw[0]&1 != 0:
		return nil, fmt.Errorf("%q is a multicast or broadcast address, not a NIC's own MAC (see `ipconfig /all` or `ip link`)", s)
	case slices.Equal(hw, make(net.HardwareAddr, 6)):
		return nil, fmt.Errorf("%q is the all-zero address, not a NIC's own MAC (see `ipconfig /all` or `ip link`)", s)
	}
	return hw, nil
}

func (c *Config) validateVIPs(p *Problems) {
	for _, name := range sortedKeys(c.VIPs) {
		v := c.VIPs[name]
		path := "vips." + name
		if !ValidName(name) {
			p.add(path, "name must be letters, digits, '.', '_' or '-'")
		}
		if pr, err := netip.ParsePrefix(v.Address); err != nil {
			switch a, aerr := netip.ParseAddr(v.Address); {
			case v.Address == "":
				p.add(path+".address", "missing: the VIP's address with its subnet's prefix length, such as 192.0.2.100/24")
			case aerr == nil:
				p.add(path+".address", "%q has no prefix length: write the subnet's, such as %s/24", v.Address, a)
			default:
				p.add(path+".address", "%q is not an IP prefix such as 192.0.2.100/24", v.Address)
			}
		} else if pr.Addr().Zone() != "" {
			p.add(path+".address", "zones are not allowed")
		}
		switch {
		case v.Interface == "":
			if v.Backend == "netlink" || v.Backend == "ip" || v.Backend == "netsh" {
				p.add(path+".interface", "required for the %s backend", v.Backend)
			}
		case !interfaceAllowed(v.Backend, v.Interface):
			p.add(path+".interface", "%q has characters that are not allowed in an interface name", v.Interface)
		default:
			if why := interfaceRefused(v.Backend, v.Interface); why != "" {
				p.add(path+".interface", "%q %s", v.Interface, why)
			}
		}
		if !slices.Contains(knownBackends, v.Backend) {
			p.add(path+".backend", "must be one of %s", strings.Join(knownBackends, ", "))
		}
		if v.Owner != "" {
			if _, ok := c.Nodes[v.Owner]; !ok {
				p.add(path+".owner", "%q is not one of nodes", v.Owner)
			}
		}
		if v.Timeout < 0 {
			p.add(path+".timeout", "must not be negative")
		}
	}
}

// interfaceRefused says why the operating system of a backend would refuse
// an interface name that ValidInterface accepts, or "".
func interfaceRefused(backend, name string) string {
	switch backend {
	case "netlink", "ip":
		// The kernel's dev_valid_name: at most IFNAMSIZ-1 bytes, no white
		// space, '/' or ':' (a ':' names an address label, not a device).
		if len(name) > 15 || strings.ContainsAny(name, " /:") {
			return "is not a Linux interface name (at most 15 characters, no spaces, '/' or ':'; see `ip link`)"
		}
	case "netsh", "nlb":
		// Renaming a connection refuses \ / : ? " < > | (and '*', which
		// Windows' own names such as "Local Area Connection* 12" have).
		if strings.ContainsAny(name, `\/:?"<>|`) {
			return "is not a Windows connection name (no \\ / : ? \" < > |; use the name `ipconfig /all` or `netsh interface show interface` shows, e.g. \"Ethernet 2\")"
		}
	}
	return ""
}

func (c *Config) validateCommands(p *Problems) {
	for _, name := range sortedKeys(c.Commands) {
		cmd := c.Commands[name]
		path := "commands." + name
		if !ValidName(name) {
			p.add(path, "name must be letters, digits, '.', '_' or '-'")
		}
		if len(cmd.Argv) == 0 || cmd.Argv[0] == "" {
			p.add(path+".argv", "required: the program and its arguments")
		}
		for i, a := range cmd.Argv {
			if strings.ContainsAny(a, "\x00\n\r") {
				p.add(fmt.Sprintf("%s.argv[%d]", path, i), "NUL and newlines are not allowed")
			}
		}
		if len(cmd.Argv) > 0 {
			// Known placeholders only, and never one as the program: the
			// alarm's sender would choose what runs.
			if err := reactions.CheckArgv(cmd.Argv); err != nil {
				*p = append(*p, path+"."+err.Error())
			}
			validateShellPlaceholders(path, cmd, p)
			validateCmdExe(path, cmd.Argv, p)
		}
		if cmd.Timeout < 0 {
			p.add(path+".timeout", "must not be negative")
		}
	}
}

func (c *Config) validateReactions(p *Problems) {
	seen := map[string]bool{}
	for i, r := range c.Reactions {
		path := fmt.Sprintf("reactions[%d]", i)
		if r.Name == "" {
			p.add(path+".name", "required")
		} else {
			path = "reactions." + r.Name
			if !ValidName(r.Name) {
				p.add(path+".name", "must be letters, digits, '.', '_' or '-'")
			}
			if seen[r.Name] {
				p.add(path, "name used twice")
			}
			seen[r.Name] = true
		}
		c.validateMatch(path+".match", r.Match, p)
		if len(r.Steps) == 0 {
			p.add(path+".steps", "at least one step is required")
		}
		for j, s := range r.Steps {
			c.validateStep(fmt.Sprintf("%s.steps[%d]", path, j), s, p)
		}
	}
}

func (c *Config) validateMatch(path string, m Match, p *Problems) {
	if len(m.Condition)+len(m.EventID)+len(m.Application)+len(m.Host)+len(m.Severity)+len(m.Labels) == 0 {
		p.add(path, "empty: a rule must match on at least one field (use condition: \"*\" to match everything)")
	}
	for _, f := range []struct {
		name string
		vals StringList
	}{{"condition", m.Condition}, {"event_id", m.EventID}, {"application", m.Application}, {"host", m.Host}, {"severity", m.Severity}} {
		for _, v := range f.vals {
			if v == "" {
				p.add(path+"."+f.name, "empty value")
			}
		}
	}
}

func (c *Config) validateStep(path string, s Step, p *Problems) {
	n := 0
	for _, v := range []string{s.Enable, s.Disable, s.Run} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		p.add(path, "exactly one of enable, disable, run is required")
		return
	}
	switch {
	case s.Enable != "" || s.Disable != "":
		name := s.Enable + s.Disable
		if _, ok := c.VIPs[name]; !ok {
			p.add(path, "unknown vip %q", name)
		}
	case s.Run != "":
		if _, ok := c.Commands[s.Run]; !ok {
			p.add(path+".run", "unknown command %q", s.Run)
		}
		if s.Force {
			p.add(path+".force", "only for enable")
		}
	}
	if s.Disable != "" && s.Force {
		p.add(path+".force", "only for enable: removing a VIP is always allowed")
	}
	if s.On != "" {
		if _, ok := c.Nodes[s.On]; !ok {
			p.add(path+".on", "%q is not one of nodes", s.On)
		}
	}
	for _, w := range s.When {
		switch reactions.Condition(w) {
		case reactions.WhenPreviousSucceeded, reactions.WhenAlways, reactions.WhenReleased:
		case reactions.WhenRMAnswers:
			node := s.On
			if node == "" {
				node = c.Node
			}
			if c.Nodes[node].RMAddress == "" {
				p.add(path+".when", "rm_answers needs nodes.%s.rm_address", node)
			}
		default:
			p.add(path+".when", "unknown condition %q (previous_succeeded, always, vip_released, rm_answers)", w)
		}
	}
	if s.Timeout < 0 {
		p.add(path+".timeout", "must not be negative")
	}
}

func (c *Config) validateReports(p *Problems, getenv func(string) string) {
	targets := map[string]bool{}
	for i := range c.Reports {
		r := &c.Reports[i]
		path := fmt.Sprintf("reports[%d]", i)
		if r.Name == "" {
			r.Name = fmt.Sprintf("report-%d", i+1)
		}
		switch {
		case !ValidName(r.Name):
			p.add(path+".name", "must be letters, digits, '.', '_' or '-'")
		case r.Name == "callback":
			p.add(path+".name", "\"callback\" is reserved for per-alarm callback_url reports")
		case targets[r.Name]:
			p.add(path+".name", "%q used twice", r.Name)
		}
		targets[r.Name] = true
		if why := checkHTTPURL(r.URL); why != "" {
			p.add(path+".url", "%s", why)
		}
		for _, st := range r.Statuses {
			if !reactions.Status(st).Final() {
				p.add(path+".statuses", "%q is not a final status", st)
			}
		}
		for k, v := range r.Headers {
			if !httpguts.ValidHeaderFieldName(k) {
				p.add(path+".headers", "%q is not a valid header name", k)
			} else if !httpguts.ValidHeaderFieldValue(v) {
				p.add(path+".headers."+k, "not a valid header value (control characters?)")
			}
		}
		if prob := r.Secret.load(path+".secret", getenv, 0); prob != "" {
			p.add(path+".secret", "%s", prob)
		}
	}
}

func (c *Config) validateAuth(p *Problems, getenv func(string) string) {
	for i := range c.Auth.Tokens {
		t := &c.Auth.Tokens[i]
		path := fmt.Sprintf("auth.tokens[%d]", i)
		if t.Name == "" {
			t.Name = fmt.Sprintf("token-%d", i+1)
		}
		if t.Role != RoleRead && t.Role != RoleTrigger && t.Role != RoleAdmin {
			p.add(path+".role", "must be read, trigger or admin")
		}
		if !t.Token.IsSet() {
			p.add(path+".token", "required (file:PATH, env:NAME or a value)")
		} else if prob := t.Token.load(path+".token", getenv, minTokenLen); prob != "" {
			p.add(path+".token", "%s", prob)
		}
	}
	// Signing keys are as long as tokens: a short HMAC key is guessed
	// offline from one signed request.
	if prob := c.Auth.WebhookSecret.load("auth.webhook_secret", getenv, minTokenLen); prob != "" {
		p.add("auth.webhook_secret", "%s", prob)
	}
	if prob := c.Auth.CallbackSecret.load("auth.callback_secret", getenv, minTokenLen); prob != "" {
		p.add("auth.callback_secret", "%s", prob)
	}
	c.validateKeys(p)
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		p.add("tls", "cert and key go together")
	}
	if c.TLS.ClientCA != "" && c.TLS.Cert == "" {
		p.add("tls.client_ca", "only with tls.cert and tls.key: client certificates need HTTPS")
	}
	for _, f := range []struct {
		where, file string
		role        fileRole
	}{
		{"tls.key", c.TLS.Key, roleSecret}, {"tls.cert", c.TLS.Cert, roleTrusted},
		{"tls.client_ca", c.TLS.ClientCA, roleTrusted}, {"tls.ca", c.TLS.CA, roleTrusted},
	} {
		if f.file != "" {
			c.checkFilePerm(p, f.where, f.file, f.role)
		}
	}
}

func (c *Config) validateLimits(p *Problems) {
	if c.Limits.MaxBodyBytes <= 0 {
		p.add("limits.max_body_bytes", "must be positive")
	}
	if c.Limits.Retries < 0 || c.Limits.Retries > 10 {
		p.add("limits.retries", "must be from 0 to 10")
	}
	if c.Limits.MaxInFlight <= 0 {
		p.add("limits.max_in_flight", "must be positive")
	}
}

// SecretProblems lists every configured secret that could not be resolved,
// each as "path: reference reason". `serve` needs them all (it accepts,
// signs and calls peers) and should refuse to start unless this is empty;
// `config check` reports them as warnings, since the environment it runs in
// need not be the one LCA or RM gives vipagent.
func (c *Config) SecretProblems() Problems {
	var p Problems
	for _, s := range c.secrets() {
		if _, err := s.Resolve(); err != nil {
			p = append(p, err.Error())
		}
	}
	return p
}

// secrets are every configured secret, in the order problems list them.
func (c *Config) secrets() []Secret {
	var all []Secret
	for _, name := range sortedKeys(c.Nodes) {
		all = append(all, c.Nodes[name].Token)
	}
	for _, r := range c.Reports {
		all = append(all, r.Secret)
	}
	for _, t := range c.Auth.Tokens {
		all = append(all, t.Token)
	}
	return append(all, c.Auth.WebhookSecret, c.Auth.CallbackSecret)
}

// PeerToken is the token this agent sends to node's agent: "" when none is
// configured, an error naming the config path when it cannot be resolved.
func (c *Config) PeerToken(node string) (string, error) {
	n, ok := c.Nodes[node]
	if !ok {
		return "", fmt.Errorf("%w: node %q is not one of nodes", reactions.ErrInvalid, node)
	}
	return n.Token.Resolve()
}

// Warnings are what `config check` should print without failing: secrets
// this process cannot resolve, and peers without url (steps on them fail).
func (c *Config) Warnings() []string {
	w := slices.Clone(c.PermissionWarnings)
	for _, s := range c.secrets() {
		if s.warn != "" {
			w = append(w, s.warn)
		}
	}
	for _, name := range sortedKeys(c.Nodes) {
		if name != c.Node && c.Nodes[name].URL == "" {
			w = append(w, fmt.Sprintf("nodes.%s.url: not set: steps on %s fail (%s has no url) until it is", name, name, name))
		}
	}
	w = append(w, c.windowsWarnings()...)
	return append(w, c.SecretProblems()...)
}
