// Package genesys generates the Genesys side of a vipagent pair from the
// agent's config: what step 5 of Genesys' "Configure Resource Manager High
// Availability Using Virtual IP Address Takeover for Windows" asks for (a
// Third Party Server template, reaction applications, Alarm Reaction
// scripts, Alarm Conditions per RM) plus the agent's own application, the
// RM [cluster] and [gvp] options, the wrapper scripts RM and people run, and
// a step-by-step guide (NLB cluster set-up included), as files.
//
// Every name is derived by a documented function so that the built-in
// reaction rules (which match RM1_Stopped and RM1_Unexpected_Stop) and the
// generated objects agree. Output is deterministic: same config, same bytes.
package genesys

import "strings"

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

// Output files besides the per-template descriptions and the wrappers.
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
	// Interface is the VIP's interface (the NLB cluster's adapter).
	Interface string `json:"interface,omitempty" yaml:"interface,omitempty"`
	// Netmask is the IPv4 subnet mask of Prefix, which NLB asks for.
	Netmask string `json:"netmask,omitempty" yaml:"netmask,omitempty"`
}

// Wrapper is a script in InstallDir that only calls the binary. Generate
// writes each one as a file named Name next to the guide.
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
	Node        string    `json:"node" yaml:"node"`
	Application string    `json:"application" yaml:"application"`
	Host        string    `json:"host" yaml:"host"`
	Sections    []Section `json:"sections" yaml:"sections"`
}

// Section is one section of an RM application's options: cluster, and gvp
// for the NICs.
type Section struct {
	Name    string   `json:"name" yaml:"name"`
	Options []Option `json:"options" yaml:"options"`
}

// Option is one option of an RM's section. An empty Value means vipagent
// cannot know it: Note says what to enter.
type Option struct {
	Name  string `json:"name" yaml:"name"`
	Value string `json:"value" yaml:"value"`
	Note  string `json:"note" yaml:"note"`
}
