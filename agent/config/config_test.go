package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
)

func noEnv(string) string { return "" }

const validYAML = `
node: rm1
nodes:
  rm1: {member_id: 1, host: rm1, rm_application: RM_1, rm_address: "127.0.0.1:9801"}
  rm2: {url: "http://198.51.100.2:8470", token: "0123456789abcdef0123", member_id: 2, host: rm2, rm_application: RM_2}
vips:
  rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake}
commands:
  notify: {argv: [/bin/echo, "${condition}", "${label:site}"], timeout: 5s}
reactions:
  - name: stop
    match: {condition: [RM1_Stopped, RM1_Unexpected_Stop]}
    steps:
      - disable: rm-vip
      - enable: rm-vip
        on: rm2
        when: [vip_released]
      - run: notify
        when: always
`

// The built-in default describes the pair: rm1 (this node, member 1) and
// rm2 (member 2, no url), with reactions for both RMs' alarms.
func TestBuiltInDefaultIsValid(t *testing.T) {
	c, err := Load("", noEnv)
	if err != nil {
		t.Fatalf("built-in config: %v", err)
	}
	if c.Node != "rm1" || c.VIPs["rm-vip"].Address != "192.0.2.100/24" || c.VIPs["rm-vip"].Backend != "fake" {
		t.Errorf("built-in config is not node rm1 with rm-vip 192.0.2.100/24 on fake: %+v", c)
	}
	members := map[string]int{}
	for name, n := range c.Nodes {
		members[name] = n.MemberID
	}
	if diff := cmp.Diff(map[string]int{"rm1": 1, "rm2": 2}, members); diff != "" {
		t.Errorf("built-in nodes and member IDs (-want +got):\n%s", diff)
	}
	var conds []string
	for _, r := range c.Reactions {
		conds = append(conds, r.Match.Condition...)
	}
	want := []string{"RM1_Stopped", "RM1_Unexpected_Stop", "RM2_Stopped", "RM2_Unexpected_Stop"}
	if diff := cmp.Diff(want, conds); diff != "" {
		t.Errorf("built-in reactions (-want +got):\n%s", diff)
	}
	wantWarn := []string{"nodes.rm2.url: not set: steps on rm2 fail (rm2 has no url) until it is"}
	if diff := cmp.Diff(wantWarn, c.Warnings()); diff != "" {
		t.Errorf("built-in warnings (-want +got):\n%s", diff)
	}
}

func TestValidConfig(t *testing.T) {
	c, err := Parse([]byte(validYAML))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(noEnv); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	if got := c.Nodes["rm2"].Token.Value(); got != "0123456789abcdef0123" {
		t.Errorf("token value = %q", got)
	}
	if s := c.Nodes["rm2"].Token.String(); strings.Contains(s, "0123456789") {
		t.Errorf("secret printed its value: %q", s)
	}
}

// Decoding reports every problem at once, each by its path, and Load adds
// Validate's without repeating one for a path decoding already reported.
func TestDecodeProblemsByPath(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown top-level key", validYAML + "\nlisten_addr: 1.2.3.4:5\n",
			[]string{"%F:21:1: listen_addr: unknown key (known: alertmanager, auth, callback_hosts, commands, data_dir, failover, genesys, insecure, journal, limits, listen, local, log, node, nodes, reactions, reports, schedules, step_timeout, tls, vips)"}},
		{"unknown nested keys", strings.NewReplacer("backend: fake", "backend: fake, bakend: x", "- disable: rm-vip", "- disable: rm-vip\n        forse: true").Replace(validYAML),
			[]string{
				"%F:7:69: vips.rm-vip.bakend: unknown key; did you mean backend?",
				"%F:15:9: reactions[0].steps[0].forse: unknown key; did you mean force?",
			}},
		{"bad duration, wrong types, duplicate key, all at once", strings.NewReplacer(
			"timeout: 5s", "timeout: 5x",
			"member_id: 2", "member_id: two",
			"node: rm1", "node: rm1\nnode: rm2\ninsecure: maybe\nlimits: {max_in_flight: [1]}",
		).Replace(validYAML), []string{
			"%F:2:1: node: given twice (lines 2 and 3)",
			"%F:4:1: insecure: \"maybe\" is not true or false",
			"%F:5:10: limits.max_in_flight: expected a number, not a list",
			"%F:8:73: nodes.rm2.member_id: \"two\" is not a number",
			"%F:12:64: commands.notify.timeout: \"5x\" is not a duration (try \"20s\")",
		}},
		{"duplicate map key", strings.Replace(validYAML, "vips:\n", "vips:\n  rm-vip: {address: 192.0.2.9/24, backend: fake}\n", 1),
			[]string{"%F:7:3: vips.rm-vip: given twice (lines 7 and 8)"}},
		{"a list where a mapping goes", validYAML + "\nschedules: [a]\n", []string{"%F:21:1: schedules: expected a mapping of keys, not a list"}},
		{"second document", validYAML + "\n---\nnode: rm2\n", []string{
			"%F: config: a second YAML document (line 21): one file holds one configuration; remove the \"---\" and what follows, or merge it"}},
		{"secret of the wrong type", validYAML + "\nauth: {webhook_secret: [a]}\n", []string{
			"%F:21:8: auth.webhook_secret: a secret must be a string (env:NAME, file:PATH or a value)"}},
		{"syntax error", "node: [\n", []string{"%F:1: did not find expected node content"}},
		{"empty", "", []string{"%F: empty"}},
		{"only a comment", "# nothing\n", []string{"%F: empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "vipagent.yaml")
			if err := os.WriteFile(file, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(file, noEnv)
			var p Problems
			if !errors.As(err, &p) || !errors.Is(err, reactions.ErrInvalid) {
				t.Fatalf("Load() = %v, want Problems", err)
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, strings.ReplaceAll(w, "%F", file))
			}
			if diff := cmp.Diff(want, []string(p)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// Each case breaks one field, and Validate reports exactly one problem,
// naming the field's path: a broken field does not bring others' problems
// with it, nor say the same twice.
func TestValidateOneProblemEach(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"node missing from nodes", "node: rm1", "node: rm9", `node: "rm9" is not one of nodes`},
		{"bad address", "192.0.2.100/24", "192.0.2.300/24", `vips.rm-vip.address: "192.0.2.300/24" is not an IP prefix such as 192.0.2.100/24`},
		{"address without prefix", "192.0.2.100/24", "192.0.2.100", `vips.rm-vip.address: "192.0.2.100" has no prefix length: write the subnet's, such as 192.0.2.100/24`},
		{"address missing", "address: 192.0.2.100/24, ", "", "vips.rm-vip.address: missing: the VIP's address with its subnet's prefix length"},
		{"interface with shell metacharacters", "interface: eth0", `interface: "eth0; rm -rf /"`, "vips.rm-vip.interface"},
		{"interface with newline", "interface: eth0", `interface: "eth0\nx"`, "vips.rm-vip.interface"},
		{"unknown backend", "backend: fake", "backend: magic", "vips.rm-vip.backend: must be one of"},
		{"bad peer url", "http://198.51.100.2:8470", "ftp://x", "nodes.rm2.url: not an http(s) URL"},
		{"step with unknown vip", "- disable: rm-vip", "- disable: nope", `reactions.stop.steps[0]: unknown vip "nope"`},
		{"step on unknown node", "on: rm2", "on: rm3", `reactions.stop.steps[1].on: "rm3" is not one of nodes`},
		{"unknown condition", "when: [vip_released]", "when: [sometimes]", `reactions.stop.steps[1].when: unknown condition "sometimes"`},
		{"unknown command", "- run: notify", "- run: nothing", `reactions.stop.steps[2].run: unknown command "nothing"`},
		{"bad placeholder", `"${label:site}"`, `"${password}"`, "commands.notify.argv[2]: unknown placeholder ${password}"},
		{"empty match", "match: {condition: [RM1_Stopped, RM1_Unexpected_Stop]}", "match: {}", "reactions.stop.match: empty"},
		{"force on disable", "- disable: rm-vip", "- disable: rm-vip\n        force: true", "reactions.stop.steps[0].force: only for enable"},
		{"negative timeout", "timeout: 5s", "timeout: -5s", "commands.notify.timeout: must not be negative"},
		{"rm_answers without address", "when: [vip_released]", "when: [rm_answers]", "rm_answers needs nodes.rm2.rm_address"},
		{"report header with newline", "reactions:", "reports: [{url: 'http://198.51.100.5/', headers: {'X-A': \"a\\nb\"}}]\nreactions:", "reports[0].headers.X-A: not a valid header value"},
		{"reserved report name", "reactions:", "reports: [{name: callback, url: 'http://198.51.100.5/'}]\nreactions:", `reports[0].name: "callback" is reserved`},
		{"env: without a name", `token: "0123456789abcdef0123"`, `token: "env:"`, `nodes.rm2.token: "env:" is not env:NAME with a variable name`},
		{"file: without a path", `token: "0123456789abcdef0123"`, `token: "file:"`, `nodes.rm2.token: "file:" is not file:PATH with a path`},
		{"duplicate member_id", "member_id: 2", "member_id: 1", "nodes.rm2.member_id: 1 is also the member_id of rm1: `failover enable 1` would not know which node is meant"},
		{"bad MAC", "member_id: 2,", "member_id: 2, nics: [00-0F-1F-6D-EB],", `nodes.rm2.nics[0]: "00-0F-1F-6D-EB" is not a MAC address such as 00-0F-1F-6D-EB-CA`},
		{"MAC twice", "member_id: 2,", "member_id: 2, nics: [00-0F-1F-6D-EB-CA, 00-0F-1F-6D-EB-CA],", "nodes.rm2.nics[1]: 00-0F-1F-6D-EB-CA is listed twice"},
		{"MAC twice, spelt differently", "member_id: 2,", "member_id: 2, nics: [00-0F-1F-6D-EB-CA, '00:0f:1f:6d:eb:ca'],", "nodes.rm2.nics[1]: 00:0f:1f:6d:eb:ca is listed twice (also as 00-0F-1F-6D-EB-CA)"},
		{"broadcast MAC", "member_id: 2,", "member_id: 2, nics: [FF-FF-FF-FF-FF-FF],", `nodes.rm2.nics[0]: "FF-FF-FF-FF-FF-FF" is a multicast or broadcast address`},
		{"Linux interface with a space", "interface: eth0, backend: fake", `interface: "Ethernet 2", backend: netlink`, `vips.rm-vip.interface: "Ethernet 2" is not a Linux interface name`},
		{"Linux interface too long", "interface: eth0, backend: fake", `interface: "enp0s31f6-vip-long", backend: ip`, `vips.rm-vip.interface: "enp0s31f6-vip-long" is not a Linux interface name`},
		{"Windows interface with a colon", "interface: eth0, backend: fake", `interface: "LAN:1", backend: netsh`, `vips.rm-vip.interface: "LAN:1" is not a Windows connection name`},
		{"short literal auth token", "reactions:", "auth: {tokens: [{role: admin, token: short}]}\nreactions:", "auth.tokens[0].token: must be at least 16 characters"},
		{"listen port out of range", "node: rm1", "node: rm1\nlisten: 127.0.0.1:99999", `listen: port "99999" is not a number from 0 to 65535`},
		{"listen port negative", "node: rm1", "node: rm1\nlisten: ':-1'", `listen: port "-1" is not a number from 0 to 65535`},
		{"listen port by service name", "node: rm1", "node: rm1\nlisten: ':http'", `listen: port "http" is not a number from 0 to 65535`},
		{"listen without port", "node: rm1", "node: rm1\nlisten: 127.0.0.1", `listen: "127.0.0.1" is not host:port`},
		{"rm_address port zero", `rm_address: "127.0.0.1:9801"`, `rm_address: "127.0.0.1:0"`, `nodes.rm1.rm_address: port "0" is not a number from 1 to 65535`},
		{"peer url port out of range", "http://198.51.100.2:8470", "http://198.51.100.2:84700", `nodes.rm2.url: port "84700" is not a number from 1 to 65535`},
		{"negative shutdown_grace", "node: rm1", "node: rm1\nlimits: {shutdown_grace: -1s}", "limits.shutdown_grace: -1s: must be positive"},
		{"zero report_max_age", "node: rm1", "node: rm1\nschedules: {report_max_age: 0s}", "schedules.report_max_age: 0s: must be positive"},
		{"zero max_skew", "node: rm1", "node: rm1\nauth: {max_skew: 0s}", "auth.max_skew: 0s: must be positive"},
		{"negative report timeout", "reactions:", "reports: [{url: 'http://198.51.100.5/', timeout: -1s}]\nreactions:", "reports[0].timeout: -1s: must not be negative"},
		{"negative rate", "node: rm1", "node: rm1\nlimits: {rate_per_minute: -1}", "limits.rate_per_minute: must not be negative"},
		{"one token under two roles", "reactions:", "auth: {tokens: [{role: admin, token: 'env:T'}, {role: read, token: 'env:T'}]}\nreactions:",
			"auth.tokens[1].token: the same token as auth.tokens[0].token (role admin): a token has one role and one name"},
		{"one token value under two roles", "reactions:", "auth: {tokens: [{role: admin, token: same-token-0123456789}, {role: trigger, token: same-token-0123456789}]}\nreactions:",
			"auth.tokens[1].token: the same token as auth.tokens[0].token (role admin)"},
		{"callback secret is the webhook secret", "reactions:", "auth: {webhook_secret: 'env:HOOK', callback_secret: 'env:HOOK'}\nreactions:",
			"auth.callback_secret: the same key as auth.webhook_secret: whoever receives what we sign with it could sign or authorise requests to this agent; use a separate secret"},
		{"report secret is the webhook secret", "reactions:", "auth: {webhook_secret: shared-0123456789}\nreports: [{url: 'http://198.51.100.5/', secret: shared-0123456789}]\nreactions:",
			"reports[0].secret: the same key as auth.webhook_secret"},
		{"report secret is a token", "reactions:", "auth: {tokens: [{role: admin, token: shared-0123456789}]}\nreports: [{url: 'http://198.51.100.5/', secret: shared-0123456789}]\nreactions:",
			"reports[0].secret: the same key as auth.tokens[0].token"},
		{"report secret is a peer token", "reactions:", "reports: [{url: 'http://198.51.100.5/', secret: 0123456789abcdef0123}]\nreactions:",
			"reports[0].secret: the same key as nodes.rm2.token"},
		{"callback secret is a peer token", "reactions:", "auth: {callback_secret: 0123456789abcdef0123}\nreactions:",
			"auth.callback_secret: the same key as nodes.rm2.token"},
		{"report header carries a token", "reactions:", "auth: {tokens: [{role: admin, token: admin-0123456789abc}]}\nreports: [{url: 'http://198.51.100.5/', headers: {Authorization: 'Bearer admin-0123456789abc'}}]\nreactions:",
			"reports[0].headers.Authorization: carries the key of auth.tokens[0].token"},
		{"report URL carries the webhook secret", "reactions:", "auth: {webhook_secret: hook-0123456789abc}\nreports: [{url: 'http://198.51.100.5/?key=hook-0123456789abc'}]\nreactions:",
			"reports[0].url: carries the key of auth.webhook_secret"},
		{"report header carries a peer token", "reactions:", "reports: [{url: 'http://198.51.100.5/', headers: {X-Key: '0123456789abcdef0123'}}]\nreactions:",
			"reports[0].headers.X-Key: carries the key of nodes.rm2.token"},
		{"two VIPs with one address", "vips:\n", "vips:\n  other: {address: 192.0.2.100/32, backend: fake}\n", "vips.rm-vip.address: 192.0.2.100 is also the address of vips.other: two VIPs cannot move one address"},
		{"IPv4 default route as VIP", "192.0.2.100/24", "0.0.0.0/0", "vips.rm-vip.address: 0.0.0.0/0 is not one host's address"},
		{"IPv6 default route as VIP", "192.0.2.100/24", "'::/0'", "vips.rm-vip.address: ::/0 is not one host's address"},
		{"node names differing in case", "  rm2: {", "  RM1: {member_id: 3}\n  rm2: {", "nodes.rm1: differs from nodes.RM1 only in case; use one spelling"},
		{"placeholder as the program", "argv: [/bin/echo,", `argv: ["${condition}",`, "commands.notify.argv[0]: the program cannot be a placeholder"},
		{"short webhook secret", "reactions:", "auth: {webhook_secret: x}\nreactions:", "auth.webhook_secret: must be at least 16 characters"},
		{"short callback secret", "reactions:", "auth: {callback_secret: short-secret}\nreactions:", "auth.callback_secret: must be at least 16 characters"},
		{"webhook secret is the admin token", "reactions:", "auth: {tokens: [{role: admin, token: admin-0123456789abc}], webhook_secret: admin-0123456789abc}\nreactions:",
			"auth.webhook_secret: the same value as auth.tokens[0].token: a signing key must differ from every token"},
		{"webhook secret is a peer token", "reactions:", "auth: {webhook_secret: 0123456789abcdef0123}\nreactions:",
			"auth.webhook_secret: the same value as nodes.rm2.token"},
		{"peer URL with a query", "http://198.51.100.2:8470", "http://198.51.100.2:8470/?token=SECRET", "nodes.rm2.url: holds a query"},
		{"peer URL with userinfo", "http://198.51.100.2:8470", "http://admin:SECRET@198.51.100.2:8470", "nodes.rm2.url: holds a user name or password"},
		{"peer URL with a fragment", "http://198.51.100.2:8470", "http://198.51.100.2:8470/#x", "nodes.rm2.url: holds a fragment"},
		{"client_ca without cert", "node: rm1", "node: rm1\ntls: {client_ca: /etc/ca.pem}", "tls.client_ca: only with tls.cert and tls.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := strings.Replace(validYAML, tt.old, tt.new, 1)
			if y == validYAML {
				t.Fatalf("replacement %q not found", tt.old)
			}
			c, err := Parse([]byte(y))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			err = c.Validate(noEnv)
			var p Problems
			if !errors.As(err, &p) {
				t.Fatalf("Validate() = %v, want Problems", err)
			}
			if !errors.Is(err, reactions.ErrInvalid) {
				t.Errorf("problems do not wrap ErrInvalid")
			}
			if len(p) != 1 || !strings.Contains(p[0], tt.want) {
				t.Errorf("problems %q, want exactly one, containing %q", p, tt.want)
			}
		})
	}
}

func TestValidateReportsEverythingAtOnce(t *testing.T) {
	y := strings.NewReplacer(
		"node: rm1", "node: rm9",
		"192.0.2.100/24", "not-an-ip",
		"backend: fake", "backend: magic",
		"- run: notify", "- run: nothing",
	).Replace(validYAML)
	c, err := Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	var p Problems
	if !errors.As(c.Validate(noEnv), &p) {
		t.Fatal("no problems reported")
	}
	want := []string{
		`node: "rm9" is not one of nodes`,
		`vips.rm-vip.address: "not-an-ip" is not an IP prefix such as 192.0.2.100/24`,
		"vips.rm-vip.backend: must be one of fake, netlink, ip, netsh, nlb, script",
		`reactions.stop.steps[2].run: unknown command "nothing"`,
	}
	if diff := cmp.Diff(want, []string(p)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestSecretsFromEnvAndFile(t *testing.T) {
	dir := t.TempDir()
	// Single-quoted in the YAML below: a Windows path's backslashes would
	// be escapes in double quotes.
	f := filepath.Join(dir, "tok")
	if err := os.WriteFile(f, []byte("from-a-file-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	y := validYAML + `
auth:
  tokens:
    - {name: ops, role: admin, token: "env:OPS_TOKEN"}
    - {name: scs, role: trigger, token: 'file:` + f + `'}
`
	c, err := Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "OPS_TOKEN" {
			return "from-the-environment-42"
		}
		return ""
	}
	if err := c.Validate(env); err != nil {
		t.Fatal(err)
	}
	got := []string{c.Auth.Tokens[0].Token.Value(), c.Auth.Tokens[1].Token.Value()}
	if diff := cmp.Diff([]string{"from-the-environment-42", "from-a-file-0123456789"}, got); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), noEnv); err == nil || !strings.Contains(err.Error(), "read config") {
		t.Errorf("missing file: %v", err)
	}
}

// A secret reference that is well formed but cannot be resolved does not
// fail loading: RM runs the failover hook without LCA's environment, and a
// local command must not fail for a peer's token. Resolve, PeerToken and
// SecretProblems name the path, the reference and the remedy.
func TestSecretsResolvedWhereUsed(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	_, notFound := os.ReadFile(missing) // the system's own words for it
	tests := []struct {
		name, old, new, path string
		env                  map[string]string
		want                 string // Resolve's error; "" for a value
	}{
		{"peer token from unset env", `token: "0123456789abcdef0123"`, `token: "env:RM2_TOKEN"`, "nodes.rm2.token", nil,
			"nodes.rm2.token: env:RM2_TOKEN is not set in this process's environment (RM runs the failover hook " +
				"in its own environment; use file:/path instead)"},
		{"peer token from env", `token: "0123456789abcdef0123"`, `token: "env:RM2_TOKEN"`, "nodes.rm2.token",
			map[string]string{"RM2_TOKEN": "peer-token"}, ""},
		// Single-quoted: a Windows path's backslashes are not escapes there.
		{"peer token from a missing file", `token: "0123456789abcdef0123"`, `token: 'file:` + missing + `'`, "nodes.rm2.token", nil,
			"nodes.rm2.token: file:" + missing + " cannot be read: " + notFound.Error() + " " +
				"(the file must be readable by every account that runs vipagent: LCA's, and RM's for the failover hook)"},
		{"peer token from an empty file", `token: "0123456789abcdef0123"`, `token: 'file:` + empty + `'`, "nodes.rm2.token", nil,
			"nodes.rm2.token: file:" + empty + " is an empty file"},
		{"short auth token from env", "reactions:", "auth: {tokens: [{role: admin, token: 'env:OPS'}]}\nreactions:", "auth.tokens[0].token",
			map[string]string{"OPS": "short"}, "auth.tokens[0].token: env:OPS gives a value shorter than 16 characters"},
		{"webhook secret from unset env", "reactions:", "auth: {webhook_secret: 'env:HOOK'}\nreactions:", "auth.webhook_secret", nil,
			"auth.webhook_secret: env:HOOK is not set in this process's environment (RM runs the failover hook " +
				"in its own environment; use file:/path instead)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y := strings.Replace(validYAML, tc.old, tc.new, 1)
			if y == validYAML {
				t.Fatalf("replacement %q not found", tc.old)
			}
			file := filepath.Join(t.TempDir(), "vipagent.yaml")
			if err := os.WriteFile(file, []byte(y), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(file, func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatalf("Load failed for a well-formed secret reference: %v", err)
			}
			var s Secret
			switch tc.path {
			case "nodes.rm2.token":
				s = c.Nodes["rm2"].Token
				if _, perr := c.PeerToken("rm2"); (perr == nil) != (tc.want == "") {
					t.Errorf("PeerToken(rm2) error = %v", perr)
				}
			case "auth.tokens[0].token":
				s = c.Auth.Tokens[0].Token
			case "auth.webhook_secret":
				s = c.Auth.WebhookSecret
			}
			v, err := s.Resolve()
			var problems []string
			if tc.want == "" {
				if err != nil || v == "" {
					t.Fatalf("Resolve() = %q, %v; want a value", v, err)
				}
			} else {
				if err == nil || err.Error() != tc.want {
					t.Fatalf("Resolve() error = %v\nwant %s", err, tc.want)
				}
				if !errors.Is(err, ErrSecretUnavailable) || v != "" {
					t.Errorf("Resolve() = %q, %v: want no value and ErrSecretUnavailable", v, err)
				}
				// Compared or signed with, an unresolved secret fails closed.
				if len(s.Value()) < minTokenLen || s.Value() == tc.env["OPS"] {
					t.Errorf("Value() of an unresolved secret = %q, want a long random value", s.Value())
				}
				problems = []string{tc.want}
			}
			if diff := cmp.Diff(problems, []string(c.SecretProblems())); diff != "" {
				t.Errorf("SecretProblems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseMAC(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"00-0F-1F-6D-EB-CA", "00:0f:1f:6d:eb:ca"},
		{"00:0f:1f:6d:eb:ca", "00:0f:1f:6d:eb:ca"},
		{"000f.1f6d.ebca", "00:0f:1f:6d:eb:ca"},
		{"00-0F-1F-6D-EB", ""},
		{"00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01", ""},
		{"eth0", ""},
		{"01-00-5E-00-00-01", ""}, // IPv4 multicast
		{"03-BF-C0-00-02-64", ""}, // NLB multicast cluster MAC
		{"ff:ff:ff:ff:ff:ff", ""},
		{"00-00-00-00-00-00", ""},
		{"02-BF-C0-00-02-64", "02:bf:c0:00:02:64"}, // NLB unicast: what ipconfig shows on both hosts
	} {
		hw, err := ParseMAC(tc.in)
		got := ""
		if err == nil {
			got = hw.String()
		}
		if got != tc.want {
			t.Errorf("ParseMAC(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNodeByMemberAndOtherNodes(t *testing.T) {
	c, err := Load("", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		member int
		node   string
		ok     bool
		others []string
	}{
		{1, "rm1", true, []string{"rm2"}},
		{2, "rm2", true, []string{"rm1"}},
		{3, "", false, []string{"rm1", "rm2"}},
		{0, "", false, []string{"rm1", "rm2"}},
	}
	for _, tc := range tests {
		node, ok := c.NodeByMember(tc.member)
		if node != tc.node || ok != tc.ok {
			t.Errorf("NodeByMember(%d) = %q, %v; want %q, %v", tc.member, node, ok, tc.node, tc.ok)
		}
		if diff := cmp.Diff(tc.others, c.OtherNodes(node)); diff != "" {
			t.Errorf("OtherNodes(%q) (-want +got):\n%s", node, diff)
		}
	}
}

// Every command finds the agent's journal, whatever directory LCA or RM
// started it in: the default data_dir is absolute, and a relative one is
// taken from the config file's directory. The built-in demo keeps its
// journal in the user's own state directory, never in a real agent's.
func TestDataDirIndependentOfWorkingDirectory(t *testing.T) {
	c, err := Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(c.DataDir) || c.DataDir != DemoDataDir() || c.DataDir == DefaultDataDir() {
		t.Errorf("built-in data_dir = %q, want the user's %q", c.DataDir, DemoDataDir())
	}
	if d := Defaults().DataDir; !filepath.IsAbs(d) || d != DefaultDataDir() {
		t.Errorf("a config's default data_dir = %q, want the absolute %q", d, DefaultDataDir())
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "vipagent.yaml")
	if err := os.WriteFile(p, []byte("node: rm1\nnodes: {rm1: {}}\ndata_dir: journal-here\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "journal-here"); c.DataDir != want {
		t.Errorf("relative data_dir = %q, want %q", c.DataDir, want)
	}
}
