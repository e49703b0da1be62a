// Package genesys generates the Genesys side of a vipagent pair from the
// agent's config: what step 5 of Genesys' "Configure Resource Manager High
// Availability Using Virtual IP Address Takeover for Windows" asks for (a
// Third Party Server template, reaction applications, Alarm Reaction
// scripts, Alarm Conditions per RM) plus the agent's own application and the
// RM [cluster] options, as a step-by-step guide and machine-readable files.
//
// Every name is derived by a documented function so that the built-in
// reaction rules (which match RM1_Stopped and RM1_Unexpected_Stop) and the
// generated objects agree. Output is deterministic: same config, same bytes.
package genesys

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/templates"
)

// Generator names what produced the files.
const Generator = "vipagent genesys"

// TemplateVersion is the Version field of the generated Application
// Templates; Genesys requires one and does not interpret it.
const TemplateVersion = "1.0"

// RMClusterPort is the port of the RMs' private cluster link (member.N),
// the value the Genesys procedure prescribes.
const RMClusterPort = 9801

// DefaultAgentPort is the agent application's port when neither the node's
// url nor listen says otherwise.
const DefaultAgentPort = 8470

// Application roles.
const (
	RoleAgent    = "agent"
	RoleReaction = "reaction"
)

// Alarm condition kinds, per RM.
const (
	KindStopped    = "stopped"
	KindUnexpected = "unexpected"
)

// ConditionNames returns the alarm condition names of a node's RM: the node
// name in upper case followed by "_Stopped" (stopped on purpose) and
// "_Unexpected_Stop" (stopped unexpectedly). Node rm1 gives RM1_Stopped and
// RM1_Unexpected_Stop, the names the built-in default reactions match. The
// name is both the Genesys Alarm Condition's name and the --condition that
// the reaction application passes to `vipagent fire`.
func ConditionNames(node string) (stopped, unexpected string) {
	n := strings.ToUpper(node)
	return n + "_Stopped", n + "_Unexpected_Stop"
}

// AgentApplicationName is the Genesys application running `vipagent serve`
// on a node: PREFIX_node, e.g. VIPAgent_rm1.
func AgentApplicationName(prefix, node string) string { return prefix + "_" + node }

// ReactionApplicationName is the Genesys application that fires a condition:
// PREFIX_CONDITION, e.g. VIPAgent_RM1_Stopped.
func ReactionApplicationName(prefix, condition string) string { return prefix + "_" + condition }

// ReactionScriptName is the Alarm Reaction script that starts the reaction
// application of a condition: PREFIX_Start_CONDITION.
func ReactionScriptName(prefix, condition string) string { return prefix + "_Start_" + condition }

// AgentTemplateName and ReactionTemplateName are the Application Templates.
func AgentTemplateName(prefix string) string    { return prefix + "_ThirdPartyServer" }
func ReactionTemplateName(prefix string) string { return prefix + "_Reaction" }

// TemplateFileName is the file that describes an Application Template.
func TemplateFileName(template string) string { return template + ".template.xml" }

// Output files besides the per-template descriptions.
const (
	GuideFile = "GUIDE.md"
	JSONFile  = "genesys-objects.json"
	YAMLFile  = "genesys-objects.yaml"
)

// Objects is every Genesys object and option a site creates or changes.
type Objects struct {
	Generator string `json:"generator" yaml:"generator"`
	Note      string `json:"note" yaml:"note"`
	// Platform of the RM hosts: windows or linux.
	Platform   string `json:"platform" yaml:"platform"`
	InstallDir string `json:"install_dir" yaml:"install_dir"`
	Executable string `json:"executable" yaml:"executable"`
	ConfigPath string `json:"config_path" yaml:"config_path"`
	// VIP is the address RM's virtual-ip names and failoverscript moves.
	VIP              VIP               `json:"vip" yaml:"vip"`
	Wrappers         []Wrapper         `json:"wrappers" yaml:"wrappers"`
	Templates        []AppTemplate     `json:"application_templates" yaml:"application_templates"`
	Applications     []Application     `json:"applications" yaml:"applications"`
	Scripts          []Script          `json:"alarm_reaction_scripts" yaml:"alarm_reaction_scripts"`
	AlarmConditions  []AlarmCondition  `json:"alarm_conditions" yaml:"alarm_conditions"`
	ResourceManagers []ResourceManager `json:"resource_managers" yaml:"resource_managers"`
	// Warnings are things in the config a person should look at.
	Warnings []string `json:"warnings,omitempty" yaml:"warnings,omitempty"`
}

// VIP is the virtual IP of the RM pair.
type VIP struct {
	Name    string `json:"name" yaml:"name"`
	Address string `json:"address" yaml:"address"`
	Prefix  string `json:"prefix" yaml:"prefix"`
	Backend string `json:"backend" yaml:"backend"`
}

// Wrapper is a script in InstallDir that only calls the binary.
type Wrapper struct {
	Name    string `json:"name" yaml:"name"`
	Path    string `json:"path" yaml:"path"`
	Command string `json:"command" yaml:"command"`
	Use     string `json:"use" yaml:"use"`
}

// AppTemplate is a Genesys Application Template.
type AppTemplate struct {
	Name        string `json:"name" yaml:"name"`
	File        string `json:"file" yaml:"file"`
	Type        string `json:"type" yaml:"type"`
	Version     string `json:"version" yaml:"version"`
	Description string `json:"description" yaml:"description"`
	// AutoRestart is what applications made from this template must set.
	AutoRestart bool `json:"auto_restart" yaml:"auto_restart"`
}

// Application is a Genesys Application (Third Party Server).
type Application struct {
	Name     string `json:"name" yaml:"name"`
	Role     string `json:"role" yaml:"role"`
	Node     string `json:"node" yaml:"node"`
	Template string `json:"template" yaml:"template"`
	// Host is the Genesys Host object whose LCA starts the application.
	Host                 string `json:"host" yaml:"host"`
	WorkingDirectory     string `json:"working_directory" yaml:"working_directory"`
	CommandLine          string `json:"command_line" yaml:"command_line"`
	CommandLineArguments string `json:"command_line_arguments" yaml:"command_line_arguments"`
	// Port is the listening port; reaction applications never listen.
	Port        int    `json:"port,omitempty" yaml:"port,omitempty"`
	AutoRestart bool   `json:"auto_restart" yaml:"auto_restart"`
	Condition   string `json:"condition,omitempty" yaml:"condition,omitempty"`
}

// Script is an Alarm Reaction script.
type Script struct {
	Name        string `json:"name" yaml:"name"`
	Type        string `json:"type" yaml:"type"`
	Action      string `json:"action" yaml:"action"`
	Application string `json:"application" yaml:"application"`
	Node        string `json:"node" yaml:"node"`
	Condition   string `json:"condition" yaml:"condition"`
}

// AlarmCondition is a Genesys Alarm Condition.
type AlarmCondition struct {
	Name          string `json:"name" yaml:"name"`
	Kind          string `json:"kind" yaml:"kind"`
	Node          string `json:"node" yaml:"node"`
	Description   string `json:"description" yaml:"description"`
	Category      string `json:"category" yaml:"category"`
	DetectEvent   string `json:"detect_event" yaml:"detect_event"`
	SelectionMode string `json:"selection_mode" yaml:"selection_mode"`
	// Application is the RM application whose events raise the alarm.
	Application          string   `json:"application" yaml:"application"`
	CancelEvent          string   `json:"cancel_event" yaml:"cancel_event"`
	CancelTimeoutSeconds int64    `json:"cancel_timeout_seconds" yaml:"cancel_timeout_seconds"`
	ReactionScripts      []string `json:"reaction_scripts" yaml:"reaction_scripts"`
	Enabled              bool     `json:"enabled" yaml:"enabled"`
}

// ResourceManager is the options to set on one RM application.
type ResourceManager struct {
	Node        string   `json:"node" yaml:"node"`
	Application string   `json:"application" yaml:"application"`
	Host        string   `json:"host" yaml:"host"`
	Section     string   `json:"section" yaml:"section"`
	Options     []Option `json:"options" yaml:"options"`
}

// Option is one option of an RM's [cluster] section. An empty Value means
// vipagent cannot know it: Note says what to enter.
type Option struct {
	Name  string `json:"name" yaml:"name"`
	Value string `json:"value" yaml:"value"`
	Note  string `json:"note" yaml:"note"`
}

// Build derives the Genesys objects from a validated config. Problems that
// make the objects unusable (an RM without application name, host or member
// ID, no VIP) are all reported at once.
func Build(cfg *config.Config) (Objects, error) {
	g := cfg.Genesys
	var probs config.Problems
	add := func(path, format string, args ...any) {
		probs = append(probs, path+": "+fmt.Sprintf(format, args...))
	}
	nodes := config.SortedKeys(cfg.Nodes)
	if len(nodes) == 0 {
		add("nodes", "at least one node is required to generate Genesys objects")
	}
	seenMember := map[int]string{}
	seenCond := map[string]string{}
	for _, n := range nodes {
		node := cfg.Nodes[n]
		p := "nodes." + n
		if node.RMApplication == "" {
			add(p+".rm_application", "required to generate Genesys objects (the Genesys application name of the node's RM)")
		}
		if node.Host == "" {
			add(p+".host", "required to generate Genesys objects (the Genesys Host object of the node)")
		}
		if node.MemberID <= 0 {
			add(p+".member_id", "required to generate Genesys objects (the RM's mymemberid, 1 or 2)")
		} else if other, ok := seenMember[node.MemberID]; ok {
			add(p+".member_id", "%d is also the member_id of %s", node.MemberID, other)
		} else {
			seenMember[node.MemberID] = n
		}
		stopped, _ := ConditionNames(n)
		if other, ok := seenCond[stopped]; ok {
			add(p, "gives the same alarm condition names as node %s (names are upper-cased)", other)
		}
		seenCond[stopped] = n
	}
	vipName, vipNames := failoverVIP(cfg)
	var vip VIP
	if vipName == "" {
		add("vips", "at least one VIP is required to generate Genesys objects")
	} else {
		v := cfg.VIPs[vipName]
		pr, err := netip.ParsePrefix(v.Address)
		if err != nil {
			add("vips."+vipName+".address", "not an IP prefix such as 192.0.2.100/24")
		}
		vip = VIP{Name: vipName, Address: pr.Addr().String(), Prefix: v.Address, Backend: v.Backend}
	}
	if len(probs) > 0 {
		return Objects{}, probs
	}

	o := Objects{
		Generator: Generator,
		Note: "Generated from the vipagent config. Log event IDs differ between Genesys releases: " +
			"check detect_event and cancel_event against your Log Events Help before relying on the alarms.",
		Platform:   "linux",
		InstallDir: g.InstallDir,
		Executable: g.ExecutablePath(),
		ConfigPath: g.ConfigPath(),
		VIP:        vip,
	}
	if g.Windows() {
		o.Platform = "windows"
	}
	o.Wrappers = wrappers(g, vip.Backend == "nlb")
	failoverScript := o.Wrappers[0].Path

	agentT, reactT := AgentTemplateName(g.ApplicationPrefix), ReactionTemplateName(g.ApplicationPrefix)
	o.Templates = []AppTemplate{
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

	members := make([]int, 0, len(nodes))
	for _, n := range nodes {
		members = append(members, cfg.Nodes[n].MemberID)
	}
	slices.Sort(members)

	cancelTimeout := int64(g.CancelTimeout.D().Seconds())
	for _, n := range nodes {
		node := cfg.Nodes[n]
		o.Applications = append(o.Applications, Application{
			Name: AgentApplicationName(g.ApplicationPrefix, n), Role: RoleAgent, Node: n, Template: agentT,
			Host: node.Host, WorkingDirectory: g.InstallDir, CommandLine: g.ExecutablePath(),
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
				Name: app, Role: RoleReaction, Node: n, Template: reactT,
				Host: node.Host, WorkingDirectory: g.InstallDir, CommandLine: g.ExecutablePath(),
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
				Application: node.RMApplication, CancelEvent: c.cancel, CancelTimeoutSeconds: cancelTimeout,
				ReactionScripts: []string{script}, Enabled: true,
			})
		}
		o.ResourceManagers = append(o.ResourceManagers, ResourceManager{
			Node: n, Application: node.RMApplication, Host: node.Host, Section: "cluster",
			Options: rmOptions(cfg, n, members, vip, failoverScript),
		})
	}
	o.Warnings = warnings(cfg, o, vipNames)
	return o, nil
}

// failoverVIP is the VIP the RM's virtual-ip names: the first of the VIPs
// the failover command moves (failover.vips, else every VIP).
func failoverVIP(cfg *config.Config) (string, []string) {
	names := slices.Clone(cfg.Failover.VIPs)
	if len(names) == 0 {
		names = config.SortedKeys(cfg.VIPs)
	}
	names = slices.DeleteFunc(names, func(n string) bool { _, ok := cfg.VIPs[n]; return !ok })
	if len(names) == 0 {
		return "", nil
	}
	return names[0], names
}

// wrappers lists the scripts of scripts/ the Genesys side calls; the first
// is RM's failoverscript.
func wrappers(g config.Genesys, nlb bool) []Wrapper {
	ext, cmd, args := ".sh", `exec "$(dirname "$0")/vipagent" failover --config "$(dirname "$0")/vipagent.yaml"`, `"$@"`
	if g.Windows() {
		ext, cmd, args = ".bat", `"%~dp0vipagent.exe" failover --config "%~dp0vipagent.yaml"`, "%*"
	}
	failover, initName := "IPTakeOver", "INIT_IPTakeOver"
	if nlb {
		failover, initName = "NLB", "INIT"
	}
	return []Wrapper{
		{
			Name: failover + ext, Path: g.HostPath(failover + ext), Command: cmd + " " + args,
			Use: "RM [cluster] failoverscript: RM runs it with enable or disable and its member ID during its election.",
		},
		{
			Name: initName + ext, Path: g.HostPath(initName + ext), Command: cmd + " disable " + args,
			Use: "Run by hand on both hosts before the first start of the RM pair: removes the VIP from this host.",
		},
	}
}

func rmOptions(cfg *config.Config, node string, members []int, vip VIP, failoverScript string) []Option {
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
	if next := cfg.Genesys.HostPath("vipagent.yaml"); o.ConfigPath != next {
		w = append(w, fmt.Sprintf("the applications use %s but the wrapper scripts (failoverscript) read %s: "+
			"keep one config, e.g. by linking one to the other.", o.ConfigPath, next))
	}
	for _, c := range o.AlarmConditions {
		if !reactionMatches(cfg, c.Name) {
			w = append(w, fmt.Sprintf("no reaction rule matches condition %s: the alarm would be recorded but nothing done.", c.Name))
		}
	}
	return w
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

// Generate renders every artefact: GUIDE.md, genesys-objects.json,
// genesys-objects.yaml and one description per Application Template. Keys
// are file names.
func Generate(cfg *config.Config) (map[string][]byte, error) {
	o, err := Build(cfg)
	if err != nil {
		return nil, fmt.Errorf("generate genesys objects: %w", err)
	}
	tmpl, err := template.New("genesys").Funcs(template.FuncMap{
		"xml": xmlEscape, "cell": markdownCell,
	}).ParseFS(templates.Genesys, "genesys/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse genesys templates: %w", err)
	}
	files := map[string][]byte{}
	render := func(name, tmplName string, data any) error {
		var b bytes.Buffer
		if err := tmpl.ExecuteTemplate(&b, tmplName, data); err != nil {
			return fmt.Errorf("render %s: %w", name, err)
		}
		files[name] = b.Bytes()
		return nil
	}
	if err := render(GuideFile, "GUIDE.md.tmpl", o); err != nil {
		return nil, err
	}
	for _, t := range o.Templates {
		var apps []Application
		for _, a := range o.Applications {
			if a.Template == t.Name {
				apps = append(apps, a)
			}
		}
		data := struct {
			Objects
			Template AppTemplate
			Apps     []Application
		}{o, t, apps}
		if err := render(t.File, "template.xml.tmpl", data); err != nil {
			return nil, err
		}
	}
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(o); err != nil {
		return nil, fmt.Errorf("encode %s: %w", JSONFile, err)
	}
	files[JSONFile] = js.Bytes()
	var ys bytes.Buffer
	ys.WriteString("# Genesys objects for vipagent, generated by `" + Generator + "`.\n" +
		"# Follow GUIDE.md to create them; verify the log event IDs against your Log Events Help.\n")
	yenc := yaml.NewEncoder(&ys)
	yenc.SetIndent(2)
	if err := yenc.Encode(o); err != nil {
		return nil, fmt.Errorf("encode %s: %w", YAMLFile, err)
	}
	if err := yenc.Close(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", YAMLFile, err)
	}
	files[YAMLFile] = ys.Bytes()
	return files, nil
}

// markdownCell keeps a value from breaking a Markdown table row.
func markdownCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\r", " ", "\n", " ").Replace(s)
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}
