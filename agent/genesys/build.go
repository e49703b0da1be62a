package genesys

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/vipagent/vipagent/agent/config"
)

// Backends by the platform of the RM hosts they run on; fake and script run
// on both.
var (
	windowsBackends = []string{"netsh", "nlb"}
	linuxBackends   = []string{"netlink", "ip"}
	// takeoverBackends add and remove the address: Genesys' IP address
	// takeover, for which RM needs the [gvp] NIC options.
	takeoverBackends = []string{"netsh", "netlink", "ip", "script"}
)

// Check reports every generator input that cannot produce a working Genesys
// object, each with its config path, as config.Problems (which wrap
// reactions.ErrInvalid); nil when Build can succeed. It expects a config
// that passed config.Validate, which catches the rest (duplicate member
// IDs, MAC syntax, interface names the OS would refuse).
func Check(cfg *config.Config) error {
	var probs config.Problems
	add := func(path, format string, args ...any) {
		probs = append(probs, path+": "+fmt.Sprintf(format, args...))
	}
	nodes := slices.Sorted(maps.Keys(cfg.Nodes))
	if len(nodes) == 0 {
		add("nodes", "at least one node is required to generate Genesys objects")
	}
	backend := ""
	if vipName, _ := failoverVIP(cfg); vipName == "" {
		add("vips", "at least one VIP is required to generate Genesys objects")
	} else {
		v := cfg.VIPs[vipName]
		backend = v.Backend
		if _, err := netip.ParsePrefix(v.Address); err != nil {
			add("vips."+vipName+".address", "not an IP prefix such as 192.0.2.100/24")
		}
		checkPlatform(cfg.Genesys, vipName, backend, add)
	}
	seenCond := map[string]string{}
	for _, n := range nodes {
		checkNode(cfg, n, backend, add)
		checkMember(cfg, n, add)
		stopped, _ := ConditionNames(n)
		if other, ok := seenCond[stopped]; ok {
			add("nodes."+n, "gives the same alarm condition names as node %s (names are upper-cased)", other)
		}
		seenCond[stopped] = n
	}
	if len(probs) > 0 {
		return probs
	}
	return nil
}

func checkNode(cfg *config.Config, name, backend string, add func(string, string, ...any)) {
	n, p := cfg.Nodes[name], "nodes."+name
	if n.RMApplication == "" {
		add(p+".rm_application", "required to generate Genesys objects (the Genesys application name of the node's RM)")
	}
	if n.Host == "" {
		add(p+".host", "required to generate Genesys objects (the Genesys Host object of the node)")
	}
	if n.MemberID <= 0 {
		add(p+".member_id", "required to generate Genesys objects (the RM's mymemberid, 1 or 2)")
	}
	if len(n.NICs) == 0 && slices.Contains(takeoverBackends, backend) {
		how, example := "`ip link`", `"00:0f:1f:6d:eb:ca"`
		if cfg.Genesys.Windows() {
			how, example = "`ipconfig /all` (Physical Address)", "00-0F-1F-6D-EB-CA"
		}
		add(p+".nics", "required for IP address takeover (the %s backend): the MAC of the NIC the VIP's interface maps to, "+
			"as %s prints it on %s, e.g. nics: [%s]; it becomes the RM's [gvp] nic.eth0", backend, how, name, example)
	}
}

// checkMember refuses an rm_address that would make RM's member.N the VIP,
// or, with NLB, an address on the NLB adapter's subnet: Genesys' procedure
// forbids the NIC that holds the VIP for the RMs' private link (in unicast
// mode the NLB adapters cannot even reach each other).
func checkMember(cfg *config.Config, name string, add func(string, string, ...any)) {
	host, _, err := net.SplitHostPort(cfg.Nodes[name].RMAddress)
	if err != nil {
		return
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return // a host name: nothing to compare
	}
	a = a.Unmap()
	for _, vipName := range slices.Sorted(maps.Keys(cfg.VIPs)) {
		v := cfg.VIPs[vipName]
		pr, err := netip.ParsePrefix(v.Address)
		if err != nil {
			continue
		}
		switch {
		case pr.Addr().Unmap() == a:
			add("nodes."+name+".rm_address", "%s is the VIP (vips.%s): RM's member.N must be %s's private address, on the NIC without the VIP", a, vipName, name)
		case v.Backend == "nlb" && pr.Masked().Contains(a):
			add("nodes."+name+".rm_address", "%s is on the NLB adapter's subnet (vips.%s.address %s): Genesys' NLB procedure forbids that NIC for member.N "+
				"(in unicast mode the NLB adapters cannot reach each other); use %s's private NIC", a, vipName, v.Address, name)
		}
	}
}

// checkPlatform refuses a VIP backend that cannot run where install_dir
// says the RM hosts are.
func checkPlatform(g config.Genesys, vipName, backend string, add func(string, string, ...any)) {
	switch {
	case g.Windows() && slices.Contains(linuxBackends, backend):
		add("vips."+vipName+".backend", "%s runs on Linux, but genesys.install_dir %q is a Windows path "+
			"(use netsh or nlb, or a Linux install_dir such as /opt/vipagent)", backend, g.InstallDir)
	case !g.Windows() && slices.Contains(windowsBackends, backend):
		add("vips."+vipName+".backend", "%s runs on Windows, but genesys.install_dir %q is a Linux path "+
			"(use netlink or ip, or a Windows install_dir such as C:\\GCTI\\vipagent)", backend, g.InstallDir)
	}
}

// Build derives the Genesys objects from a validated config. Problems that
// make the objects unusable are all reported at once (see Check); things a
// person should look at are in Objects.Warnings.
func Build(cfg *config.Config) (Objects, error) {
	if err := Check(cfg); err != nil {
		return Objects{}, err
	}
	g := cfg.Genesys
	vipName, vipNames := failoverVIP(cfg)
	v := cfg.VIPs[vipName]
	pr, _ := netip.ParsePrefix(v.Address)
	o := Objects{
		Generator: Generator,
		Note: "Generated from the vipagent config. Log event IDs differ between Genesys releases: " +
			"check detect_event and cancel_event against your Log Events Help before relying on the alarms.",
		Platform:   "linux",
		InstallDir: g.InstallDir,
		Executable: g.ExecutablePath(),
		ConfigPath: g.ConfigPath(),
		VIP: VIP{Name: vipName, Address: pr.Addr().String(), Prefix: v.Address, Backend: v.Backend,
			Interface: v.Interface, Netmask: netmask(pr)},
		Wrappers:  wrappers(g, v.Backend == "nlb"),
		Templates: appTemplates(g.ApplicationPrefix),
	}
	if g.Windows() {
		o.Platform = "windows"
	}
	nodes := slices.Sorted(maps.Keys(cfg.Nodes))
	members := make([]int, 0, len(nodes))
	for _, n := range nodes {
		members = append(members, cfg.Nodes[n].MemberID)
	}
	slices.Sort(members)
	for _, n := range nodes {
		o.addNode(cfg, n, members)
	}
	o.Warnings = warnings(cfg, o, vipNames)
	return o, nil
}

// netmask is the dotted subnet mask of an IPv4 prefix, "" for IPv6.
func netmask(p netip.Prefix) string {
	if !p.Addr().Is4() {
		return ""
	}
	return net.IP(net.CIDRMask(p.Bits(), 32)).String()
}

func appTemplates(prefix string) []AppTemplate {
	agentT, reactT := AgentTemplateName(prefix), ReactionTemplateName(prefix)
	return []AppTemplate{
		{
			Name: agentT, File: TemplateFileName(agentT), Type: "Third Party Server", Version: TemplateVersion,
			Description: "vipagent serve: the long-running agent on each RM host. Auto Restart ON: LCA restarts it if it dies.",
			AutoRestart: true,
		},
		{
			Name: reactT, File: TemplateFileName(reactT), Type: "Third Party Server", Version: TemplateVersion,
			Description: "vipagent fire: a one-shot reaction started by an Alarm Reaction script. Auto Restart OFF: " +
				"it exits when done and must never be restarted by LCA.",
			AutoRestart: false,
		},
	}
}

// addNode adds a node's agent application, its two reaction applications,
// Alarm Reaction scripts and Alarm Conditions, and its RM's options.
func (o *Objects) addNode(cfg *config.Config, n string, members []int) {
	g, node := cfg.Genesys, cfg.Nodes[n]
	o.Applications = append(o.Applications, Application{
		Name: AgentApplicationName(g.ApplicationPrefix, n), Role: RoleAgent, Node: n,
		Template: AgentTemplateName(g.ApplicationPrefix),
		Host:     node.Host, WorkingDirectory: g.InstallDir, CommandLine: g.CommandLine(),
		CommandLineArguments: joinArgs("serve", "--config", g.ConfigPath()),
		Port:                 agentPort(cfg, n), AutoRestart: true,
	})
	stopped, unexpected := ConditionNames(n)
	for _, c := range []struct{ kind, name, detect, cancel, what string }{
		{KindStopped, stopped, g.StoppedDetect, g.StoppedCancel, "was stopped on purpose"},
		{KindUnexpected, unexpected, g.UnexpectedDetect, g.UnexpectedCancel, "stopped unexpectedly"},
	} {
		app := ReactionApplicationName(g.ApplicationPrefix, c.name)
		script := ReactionScriptName(g.ApplicationPrefix, c.name)
		// The reaction runs on the stopped RM's own host: that is where
		// the VIP must go, and it needs no peer link to get there.
		o.Applications = append(o.Applications, Application{
			Name: app, Role: RoleReaction, Node: n, Template: ReactionTemplateName(g.ApplicationPrefix),
			Host: node.Host, WorkingDirectory: g.InstallDir, CommandLine: g.CommandLine(),
			CommandLineArguments: joinArgs("fire", "--condition", c.name, "--config", g.ConfigPath()),
			AutoRestart:          false, Condition: c.name,
		})
		o.Scripts = append(o.Scripts, Script{
			Name: script, Type: "Alarm Reaction", Action: "Start a specified application",
			Application: app, Node: n, Condition: c.name,
		})
		o.AlarmConditions = append(o.AlarmConditions, AlarmCondition{
			Name: c.name, Kind: c.kind, Node: n,
			Description: fmt.Sprintf("RM %s of node %s %s: start %s (vipagent fire --condition %s).",
				node.RMApplication, n, c.what, app, c.name),
			Category: g.Severity, DetectEvent: c.detect, SelectionMode: "Select By Application",
			Application: node.RMApplication, CancelEvent: c.cancel,
			CancelTimeoutSeconds: int64(g.CancelTimeout.D().Seconds()),
			ReactionScripts:      []string{script}, Enabled: true,
		})
	}
	rm := ResourceManager{
		Node: n, Application: node.RMApplication, Host: node.Host,
		Sections: []Section{{Name: "cluster", Options: clusterOptions(cfg, n, members, o.VIP, o.Wrappers[0].Path)}},
	}
	if gvp := gvpOptions(cfg, n, o.VIP.Backend); len(gvp) > 0 {
		rm.Sections = append(rm.Sections, Section{Name: "gvp", Options: gvp})
	}
	o.ResourceManagers = append(o.ResourceManagers, rm)
}

// failoverVIP is the VIP the RM's virtual-ip names: the first of the VIPs
// the failover command moves (failover.vips, else every VIP).
func failoverVIP(cfg *config.Config) (string, []string) {
	names := slices.Clone(cfg.Failover.VIPs)
	if len(names) == 0 {
		names = slices.Sorted(maps.Keys(cfg.VIPs))
	}
	names = slices.DeleteFunc(names, func(n string) bool { _, ok := cfg.VIPs[n]; return !ok })
	if len(names) == 0 {
		return "", nil
	}
	return names[0], names
}

func clusterOptions(cfg *config.Config, node string, members []int, vip VIP, failoverScript string) []Option {
	memberList := make([]string, len(members))
	for i, m := range members {
		memberList[i] = strconv.Itoa(m)
	}
	heartbeat, heartbeatNote := "8000", "Genesys recommends 8000 with IP address takeover (the default 2000 is not suitable on some systems)."
	if vip.Backend == "nlb" {
		heartbeat, heartbeatNote = "2000", "the value the Genesys NLB procedure prescribes."
	}
	opts := []Option{
		{Name: "ha-mode", Value: "active-standby", Note: "one RM holds the VIP; SIP Server must run on another host."},
		{Name: "hotstandby", Value: "true", Note: "required for the HA pair."},
		{Name: "mymemberid", Value: strconv.Itoa(cfg.Nodes[node].MemberID), Note: "this RM's member ID (nodes." + node + ".member_id)."},
		{Name: "members", Value: strings.Join(memberList, " "), Note: "every member ID of the pair."},
	}
	for _, m := range members {
		n, _ := cfg.NodeByMember(m)
		o := Option{Name: "member." + strconv.Itoa(m)}
		if host, _, err := net.SplitHostPort(cfg.Nodes[n].RMAddress); err == nil && host != "" {
			o.Value = net.JoinHostPort(host, strconv.Itoa(RMClusterPort))
			o.Note = "private address of " + n + " (from nodes." + n + ".rm_address), cluster port " + strconv.Itoa(RMClusterPort) + "."
		} else {
			o.Note = "enter the private IP address of " + n + "'s host (the NIC without the VIP) followed by :" +
				strconv.Itoa(RMClusterPort) + "; set nodes." + n + ".rm_address to have it filled in."
		}
		opts = append(opts, o)
	}
	return append(opts,
		Option{Name: "virtual-ip", Value: vip.Address, Note: "the VIP (vips." + vip.Name + "), without prefix length."},
		Option{Name: "failoverscript", Value: failoverScript, Note: "the vipagent wrapper; RM calls it with enable or disable and a member ID."},
		Option{Name: "heartbeattimer", Value: heartbeat, Note: heartbeatNote},
	)
}

// gvpOptions are the RM's [gvp] NIC options: nic.eth<N> per MAC of
// nodes.<node>.nics and nics listing the Ns. Genesys requires them for IP
// address takeover; with NLB they are optional (RM then monitors every NIC)
// and only given when nics is set. The fake backend stands for takeover
// with the MAC left to enter by hand.
func gvpOptions(cfg *config.Config, node, backend string) []Option {
	macs := cfg.Nodes[node].NICs
	switch {
	case len(macs) > 0:
	case backend == "fake" || slices.Contains(takeoverBackends, backend):
		macs = []string{""}
	default:
		return nil
	}
	var opts []Option
	idx := make([]string, len(macs))
	for i, mac := range macs {
		idx[i] = strconv.Itoa(i)
		o := Option{Name: "nic.eth" + idx[i]}
		if mac == "" {
			o.Note = "enter the MAC of the NIC the VIP's interface maps to on " + node + " (" + macHowTo(cfg.Genesys) +
				"); set nodes." + node + ".nics to have it filled in."
		} else {
			o.Value = formatMAC(mac, cfg.Genesys.Windows())
			o.Note = fmt.Sprintf("MAC of a NIC the VIP's interface maps to (nodes.%s.nics[%d]); check it with %s.",
				node, i, macHowTo(cfg.Genesys))
		}
		opts = append(opts, o)
	}
	return append(opts, Option{Name: "nics", Value: strings.Join(idx, " "),
		Note: "the N of each nic.ethN above; required for IP address takeover, 0 when there is one NIC."})
}

func macHowTo(g config.Genesys) string {
	if g.Windows() {
		return "`ipconfig /all`, Physical Address of the adapter named like the VIP's interface"
	}
	return "`ip link show dev IFNAME`, the address after link/ether"
}

// formatMAC writes a MAC the way the RM hosts' own tools print it:
// 00-0F-1F-6D-EB-CA on Windows (ipconfig, and the Genesys procedure's
// example), 00:0f:1f:6d:eb:ca on Linux.
func formatMAC(s string, windows bool) string {
	hw, err := config.ParseMAC(s)
	if err != nil {
		return s
	}
	if windows {
		return strings.ToUpper(strings.ReplaceAll(hw.String(), ":", "-"))
	}
	return hw.String()
}

// agentPort is the node's agent port: from its url, else from listen for
// this node, else the default.
func agentPort(cfg *config.Config, node string) int {
	if u, err := url.Parse(cfg.Nodes[node].URL); err == nil && u.Port() != "" {
		if p, err := strconv.Atoi(u.Port()); err == nil {
			return p
		}
	}
	if node == cfg.Node {
		if _, port, err := net.SplitHostPort(cfg.Listen); err == nil {
			if p, err := strconv.Atoi(port); err == nil && p > 0 {
				return p
			}
		}
	}
	return DefaultAgentPort
}

func warnings(cfg *config.Config, o Objects, vipNames []string) []string {
	var w []string
	if len(cfg.Nodes) == 1 {
		w = append(w, fmt.Sprintf("only node %s is configured: RM's members lists one member and no other RM can take "+
			"the VIP over; add the other RM as a second node, with its own member_id, to describe the pair.",
			o.ResourceManagers[0].Node))
	}
	if len(cfg.Nodes) > 2 {
		w = append(w, fmt.Sprintf("%d nodes are configured (%s): an RM HA pair has two members; Genesys' procedure "+
			"configures members 1 2, and NLB.bat and IPTakeOver.bat move the VIP between two hosts.",
			len(cfg.Nodes), strings.Join(slices.Sorted(maps.Keys(cfg.Nodes)), ", ")))
	}
	if len(vipNames) > 1 {
		w = append(w, fmt.Sprintf("the failover command moves %d VIPs (%s) but RM's virtual-ip takes one: %s is used.",
			len(vipNames), strings.Join(vipNames, ", "), o.VIP.Name))
	}
	for _, n := range vipNames {
		v := cfg.VIPs[n]
		switch {
		case v.Backend == "fake":
			w = append(w, fmt.Sprintf("vips.%s uses the fake backend: nothing moves on a real host.", n))
		case (v.Backend == "nlb") != (o.VIP.Backend == "nlb"):
			w = append(w, fmt.Sprintf("vips.%s uses the %s backend but failoverscript is %s (chosen for vips.%s).",
				n, v.Backend, o.Wrappers[0].Name, o.VIP.Name))
		}
	}
	if env := envSecrets(cfg); len(env) > 0 {
		w = append(w, fmt.Sprintf("env: references in %s: RM runs failoverscript in its own environment, "+
			"which may lack LCA's variables; on RM hosts prefer file:PATH.", strings.Join(env, ", ")))
	}
	for _, c := range o.AlarmConditions {
		if !reactionMatches(cfg, c.Name) {
			w = append(w, fmt.Sprintf("no reaction rule matches condition %s: the alarm would be recorded but nothing done.", c.Name))
		}
	}
	return w
}

// envSecrets lists the config paths of the secrets the failover hook may
// need (peer tokens, and the tokens it hands off to the local agent with)
// that are given as env: references.
func envSecrets(cfg *config.Config) []string {
	var paths []string
	for _, n := range slices.Sorted(maps.Keys(cfg.Nodes)) {
		if strings.HasPrefix(cfg.Nodes[n].Token.Ref, "env:") {
			paths = append(paths, "nodes."+n+".token")
		}
	}
	for i, t := range cfg.Auth.Tokens {
		if strings.HasPrefix(t.Token.Ref, "env:") && t.Role != config.RoleRead {
			paths = append(paths, fmt.Sprintf("auth.tokens[%d].token", i))
		}
	}
	return paths
}

// reactionMatches reports whether a rule's condition matches name, with the
// * and ? wildcards rules allow.
func reactionMatches(cfg *config.Config, name string) bool {
	for _, r := range cfg.Reactions {
		for _, pat := range r.Match.Condition {
			if ok, err := path.Match(pat, name); err == nil && ok {
				return true
			}
		}
	}
	return false
}

// joinArgs renders a Genesys "Command Line Arguments" field, quoting the
// arguments with spaces (LCA splits the field on white space).
func joinArgs(args ...string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t") {
			a = `"` + a + `"`
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
