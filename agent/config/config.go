// Package config loads and checks vipagent's YAML configuration: defaults
// first, then a strict decode (unknown keys are errors), then Validate, which
// reports every problem at once with its path.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/vipagent/vipagent/agent/regularfile"
	"github.com/vipagent/vipagent/reactions"
)

// DefaultListen is where the agent's API listens unless told otherwise.
const DefaultListen = "127.0.0.1:8470"

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML is the built-in configuration used when no --config is given.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// Config is the whole configuration of one agent.
type Config struct {
	// Node is this agent's node name; it must be a key of Nodes.
	Node    string `yaml:"node"`
	Listen  string `yaml:"listen"`
	DataDir string `yaml:"data_dir"`
	// Insecure allows listening on a non-loopback address without TLS or
	// without tokens.
	Insecure bool   `yaml:"insecure"`
	TLS      TLS    `yaml:"tls"`
	Auth     Auth   `yaml:"auth"`
	Local    Local  `yaml:"local"`
	Limits   Limits `yaml:"limits"`
	// Nodes are the members of the RM pair, this one included.
	Nodes     map[string]Node    `yaml:"nodes"`
	VIPs      map[string]VIP     `yaml:"vips"`
	Commands  map[string]Command `yaml:"commands"`
	Reactions []Reaction         `yaml:"reactions"`
	Reports   []Report           `yaml:"reports"`
	// CallbackHosts are the hosts a per-alarm callback_url may point at.
	CallbackHosts []string     `yaml:"callback_hosts"`
	Schedules     Schedules    `yaml:"schedules"`
	Failover      Failover     `yaml:"failover"`
	Genesys       Genesys      `yaml:"genesys"`
	Alertmanager  Alertmanager `yaml:"alertmanager"`
	Log           Log          `yaml:"log"`
	Journal       Journal      `yaml:"journal"`
	// StepTimeout bounds a step that sets no timeout of its own.
	StepTimeout Duration `yaml:"step_timeout"`

	// PermissionWarnings are files whose permissions could not be checked
	// (a Windows ACL that cannot be read); Warnings lists them.
	PermissionWarnings []string `yaml:"-"`

	src *source // where it was loaded from, for Locate
}

// Node is a member of the RM pair.
type Node struct {
	// URL is the base URL of the node's agent API, e.g. http://10.0.0.2:8470.
	URL string `yaml:"url"`
	// Token is what this agent sends to that node's agent (peer calls).
	// On RM hosts prefer file:PATH: RM runs the failover hook in its own
	// environment, without LCA's variables.
	Token Secret `yaml:"token"`
	// MemberID is the RM's [cluster] mymemberid on that node.
	MemberID int `yaml:"member_id"`
	// RMAddress is host:port where the node's Resource Manager answers,
	// used by the rm_answers step condition.
	RMAddress string `yaml:"rm_address"`
	// Host is the Genesys Host object of the node.
	Host string `yaml:"host"`
	// RMApplication is the Genesys application name of the node's RM.
	RMApplication string `yaml:"rm_application"`
	// NICs are the MAC addresses of the NICs the VIP's interface maps to on
	// this node (usually one), as `ipconfig /all` or `ip link` prints them.
	// They become the RM's [gvp] options nic.eth0, nic.eth1, ... and nics,
	// which Genesys requires for IP address takeover.
	NICs []string `yaml:"nics"`
}

// VIP is one virtual IP this pair moves.
type VIP struct {
	Address   string `yaml:"address"`
	Interface string `yaml:"interface"`
	Backend   string `yaml:"backend"`
	// Owner is the node that should hold the VIP when nothing has moved it.
	Owner   string         `yaml:"owner"`
	Timeout Duration       `yaml:"timeout"`
	Options map[string]any `yaml:"options"`
	// AutoFix lets the reconcile job repair drift (the VIP on no node, on
	// both, or not where the newest move put it) instead of only reporting
	// it. Unset means true: one holder, whatever the faults, is the
	// promise; auto_fix: false only reports. See Repairs.
	AutoFix *bool `yaml:"auto_fix"`
}

// Prefix is the VIP's parsed address; only call after Validate.
func (v VIP) Prefix() netip.Prefix { p, _ := netip.ParsePrefix(v.Address); return p }

// Command is a program a reaction step may run.
type Command struct {
	Argv    []string `yaml:"argv"`
	Dir     string   `yaml:"dir"`
	Timeout Duration `yaml:"timeout"`
	// ShellPlaceholders, set to ShellPlaceholdersOptIn, allows placeholders
	// where a command interpreter reads them as code (sh -c, cmd.exe /c,
	// powershell -Command): the alarm's sender then writes commands.
	ShellPlaceholders string `yaml:"shell_placeholders"`
}

// Reaction is a rule: what to match and which steps to run.
type Reaction struct {
	Name  string `yaml:"name"`
	Match Match  `yaml:"match"`
	Steps []Step `yaml:"steps"`
}

// Match selects alarms. Every field that is set must match; a field takes
// one value or a list, and values may use * and ? wildcards.
type Match struct {
	Condition   StringList            `yaml:"condition"`
	EventID     StringList            `yaml:"event_id"`
	Application StringList            `yaml:"application"`
	Host        StringList            `yaml:"host"`
	Severity    StringList            `yaml:"severity"`
	Labels      map[string]StringList `yaml:"labels"`
}

// Step is one step of a reaction: exactly one of Enable, Disable, Run.
type Step struct {
	Enable  string     `yaml:"enable"`
	Disable string     `yaml:"disable"`
	Run     string     `yaml:"run"`
	On      string     `yaml:"on"`
	Force   bool       `yaml:"force"`
	When    StringList `yaml:"when"`
	Timeout Duration   `yaml:"timeout"`
}

// Report is an HTTP target that receives results.
type Report struct {
	Name     string            `yaml:"name"`
	URL      string            `yaml:"url"`
	Headers  map[string]string `yaml:"headers"`
	Secret   Secret            `yaml:"secret"`
	Statuses []string          `yaml:"statuses"`
	Steps    bool              `yaml:"steps"`
	Timeout  Duration          `yaml:"timeout"`
}

// Schedules are cron expressions (robfig/cron, with optional seconds and
// descriptors such as @every 30s) for the periodic jobs; "off" disables one.
type Schedules struct {
	Reconcile   string `yaml:"reconcile"`
	DrainOutbox string `yaml:"drain_outbox"`
	Prune       string `yaml:"prune"`
	// PruneAge removes finished events older than this.
	PruneAge Duration `yaml:"prune_age"`
	// PruneKeep keeps at most this many finished events.
	PruneKeep int `yaml:"prune_keep"`
	// ReportMaxAge gives up retrying a report older than this.
	ReportMaxAge Duration `yaml:"report_max_age"`
	// Observe looks at every local VIP so that /metrics stays fresh
	// without a reconcile; ProbePeers asks each peer's /healthz so that
	// vipagent_peer_up turns 0 within one interval of a peer dying.
	Observe    string `yaml:"observe"`
	ProbePeers string `yaml:"probe_peers"`
}

// Failover configures `vipagent failover enable|disable [MEMBERID]`.
type Failover struct {
	// VIPs moved by the failover command; empty means every VIP.
	VIPs  []string `yaml:"vips"`
	Force bool     `yaml:"force"`
}

// Alertmanager configures the /v1/alertmanager receiver.
type Alertmanager struct {
	// ConditionLabel names the label that gives an alert's condition.
	ConditionLabel string `yaml:"condition_label"`
	// Resolved says what to do with resolved alerts: "ignore" or "match".
	Resolved string `yaml:"resolved"`
}

// Auth lists the bearer tokens the API accepts and the webhook signing key.
type Auth struct {
	Tokens []Token `yaml:"tokens"`
	// WebhookSecret verifies signed webhooks (X-Vipagent-Signature).
	WebhookSecret Secret `yaml:"webhook_secret"`
	// CallbackSecret signs the reports sent to per-alarm callback_urls. It
	// must differ from WebhookSecret: a key we send with is never one we
	// accept.
	CallbackSecret Secret `yaml:"callback_secret"`
	// MaxSkew bounds the age of a signed webhook's timestamp.
	MaxSkew Duration `yaml:"max_skew"`
}

// Token is one bearer token and its role.
type Token struct {
	Name  string `yaml:"name"`
	Role  string `yaml:"role"`
	Token Secret `yaml:"token"`
}

// Roles, weakest first: each includes the ones before it... except that
// trigger and read are separate; admin includes both.
const (
	RoleRead    = "read"
	RoleTrigger = "trigger"
	RoleAdmin   = "admin"
)

// TLS holds certificate files; set both to serve HTTPS.
type TLS struct {
	Cert     string `yaml:"cert"`
	Key      string `yaml:"key"`
	ClientCA string `yaml:"client_ca"`
	// CA verifies peers' certificates on outgoing peer calls.
	CA string `yaml:"ca"`
}

// Limits bound what a client can make the agent do.
type Limits struct {
	MaxBodyBytes  int64    `yaml:"max_body_bytes"`
	RatePerMinute int      `yaml:"rate_per_minute"`
	MaxInFlight   int      `yaml:"max_in_flight"`
	ReadTimeout   Duration `yaml:"read_timeout"`
	WriteTimeout  Duration `yaml:"write_timeout"`
	ShutdownGrace Duration `yaml:"shutdown_grace"`
	// Supersede lets a newer event for a VIP replace older ones still
	// queued for it (latest intent wins); the replaced ones end superseded.
	Supersede bool `yaml:"supersede"`
	// Retries is how often a failed VIP step is tried again.
	Retries int `yaml:"retries"`

	// MaxConnections caps the API's open connections (agent/conncap.go).
	MaxConnections int `yaml:"max_connections"`
}

// Log configures logging; File adds a size-rotated log file.
type Log struct {
	Level     string `yaml:"level"`
	Format    string `yaml:"format"` // json, console or auto
	File      string `yaml:"file"`
	MaxSizeMB int    `yaml:"max_size_mb"`
	MaxFiles  int    `yaml:"max_files"`
}

// Defaults returns a configuration with every default filled in.
func Defaults() Config {
	return Config{
		Listen:      DefaultListen,
		DataDir:     DefaultDataDir(),
		StepTimeout: Duration(30 * time.Second),
		Limits: Limits{
			MaxBodyBytes:  64 << 10,
			RatePerMinute: 600,
			MaxInFlight:   1024,
			ReadTimeout:   Duration(10 * time.Second),
			WriteTimeout:  Duration(10 * time.Second),
			ShutdownGrace: Duration(30 * time.Second),
			Supersede:     true,

			MaxConnections: 512,
		},
		Auth: Auth{MaxSkew: Duration(5 * time.Minute)},
		Schedules: Schedules{
			Reconcile:    "@every 30s",
			DrainOutbox:  "@every 5s",
			Prune:        "@every 1h",
			PruneAge:     Duration(30 * 24 * time.Hour),
			PruneKeep:    100000,
			ReportMaxAge: Duration(7 * 24 * time.Hour),
			Observe:      "@every 15s",
			ProbePeers:   "@every 5s",
		},
		Alertmanager: Alertmanager{ConditionLabel: "condition", Resolved: "ignore"},
		Genesys:      DefaultGenesys(),
		Log:          Log{Level: "info", Format: "auto", MaxSizeMB: 20, MaxFiles: 5},
	}
}

// maxConfigFile bounds the configuration file: a real one is a few KiB,
// and a path such as /dev/zero must not make a command read until memory
// runs out.
const maxConfigFile = 4 << 20

// Load reads a configuration file; path "" means the built-in default.
// Every problem comes back at once as Problems: what decoding found
// (unknown or duplicate keys, wrong types, bad durations, extra documents),
// what Validate found and the file's permissions, each as
// FILE:LINE:COLUMN: PATH: what is wrong (see Locate), with the config when
// there was one to validate. A secret reference that cannot be resolved is
// not an error here: see Secret.Resolve and SecretProblems.
func Load(path string, getenv func(string) string) (*Config, error) {
	data := DefaultYAML()
	if path != "" {
		b, err := regularfile.Read(path, maxConfigFile)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		data = b
	}
	name := path
	if name == "" {
		name = "built-in default"
	}
	c, err := Parse(data)
	var decoded Problems
	if err != nil && (c == nil || !errors.As(err, &decoded)) {
		if errors.As(err, &decoded) {
			// Nothing to walk: a syntax error names its line.
			for i, prob := range decoded {
				decoded[i] = locateSyntax(name, strings.TrimPrefix(prob, "config: "))
			}
			return nil, decoded
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c.src.file = name
	if path == "" {
		c.DataDir = DemoDataDir()
	}
	if path != "" && c.DataDir != "" && !filepath.IsAbs(c.DataDir) {
		// Relative to the config file, not to whatever directory LCA or RM
		// started the process in: every command finds the agent's journal.
		c.DataDir = filepath.Join(filepath.Dir(path), c.DataDir)
	}
	var validated Problems
	if err := c.Validate(getenv); err != nil && !errors.As(err, &validated) {
		return c, err
	}
	if path != "" {
		c.checkFilePerm(&validated, "config", path, roleConfig)
	}
	if all := decoded.merge(validated); len(all) > 0 {
		return c, c.Locate(all)
	}
	return c, nil
}

// Parse decodes YAML strictly on top of Defaults. Decoding problems come
// back as Problems together with the config as far as it could be decoded
// (nil only when the YAML could not be read at all), so that Validate can
// report the rest.
func Parse(data []byte) (*Config, error) {
	c := Defaults()
	p, at, walked := decodeYAML(data, &c)
	c.src = &source{at: at}
	switch {
	case !walked:
		return nil, p
	case len(p) > 0:
		return &c, p
	}
	return &c, nil
}

// merge appends more to p, leaving out a problem at (or under) a path p
// already has one for: a value that could not be decoded keeps its default,
// which Validate need not report again.
func (p Problems) merge(more Problems) Problems {
	out := slices.Clone(p)
	for _, m := range more {
		mp, _, _ := strings.Cut(m, ": ")
		covered := slices.ContainsFunc(p, func(q string) bool {
			qp, _, _ := strings.Cut(q, ": ")
			return mp == qp || strings.HasPrefix(mp, qp+".") || strings.HasPrefix(mp, qp+"[")
		})
		if !covered {
			out = append(out, m)
		}
	}
	return out
}

// Problems is every validation problem of a configuration.
type Problems []string

func (p Problems) Error() string {
	return fmt.Sprintf("%d config problem(s):\n  %s", len(p), strings.Join(p, "\n  "))
}

func (p Problems) Unwrap() error { return reactions.ErrInvalid }

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	// Interface names reach netsh and ip as one argv element; Windows names
	// have spaces and parentheses ("Ethernet 2", "Local Area Connection
	// (2)"), but nothing a shell or netsh's own parser would interpret.
	ifnameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._:()#-]{0,63}$`)
)

// ValidName reports whether s is fit for a node, VIP, command or reaction name.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// ValidInterface reports whether s is fit to be an interface name.
func ValidInterface(s string) bool { return ifnameRE.MatchString(s) && !strings.HasSuffix(s, " ") }

// Repairs reports whether reconcile repairs this VIP's drift.
func (v VIP) Repairs() bool { return v.AutoFix == nil || *v.AutoFix }

// NodeByMember returns the node whose RM has the given member ID.
func (c *Config) NodeByMember(id int) (string, bool) {
	for _, name := range sortedKeys(c.Nodes) {
		if c.Nodes[name].MemberID == id && id != 0 {
			return name, true
		}
	}
	return "", false
}

// OtherNodes returns every node but the given one, in name order: the
// members `failover enable X` releases the VIP on before enabling it on X.
func (c *Config) OtherNodes(node string) []string {
	return slices.DeleteFunc(sortedKeys(c.Nodes), func(n string) bool { return n == node })
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
