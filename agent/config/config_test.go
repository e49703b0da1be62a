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
  notify: {argv: [/bin/echo, "{condition}", "{label:site}"], timeout: 5s}
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

func TestBuiltInDefaultIsValid(t *testing.T) {
	c, err := Load("", noEnv)
	if err != nil {
		t.Fatalf("built-in config: %v", err)
	}
	if c.Node != "rm1" || c.VIPs["rm-vip"].Address != "192.0.2.100/24" || c.VIPs["rm-vip"].Backend != "fake" {
		t.Errorf("built-in config is not node rm1 with rm-vip 192.0.2.100/24 on fake: %+v", c)
	}
	var conds []string
	for _, r := range c.Reactions {
		conds = append(conds, r.Match.Condition...)
	}
	if diff := cmp.Diff([]string{"RM1_Stopped", "RM1_Unexpected_Stop"}, conds); diff != "" {
		t.Errorf("built-in reactions (-want +got):\n%s", diff)
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

func TestUnknownKeysAreErrors(t *testing.T) {
	for _, y := range []string{
		validYAML + "\nlisten_addr: 1.2.3.4:5\n",
		strings.Replace(validYAML, "backend: fake", "backend: fake, bakend: x", 1),
		strings.Replace(validYAML, "- disable: rm-vip", "- disable: rm-vip\n        forse: true", 1),
	} {
		_, err := Parse([]byte(y))
		if err == nil || !errors.Is(err, reactions.ErrInvalid) || !strings.Contains(err.Error(), "not found") {
			t.Errorf("unknown key accepted or unclear error: %v", err)
		}
	}
	if _, err := Parse([]byte("")); err == nil {
		t.Error("empty config accepted")
	}
}

// Each case breaks one field; the problem must name its path.
func TestValidateOneProblemEach(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"node missing from nodes", "node: rm1", "node: rm9", `node: "rm9" is not one of nodes`},
		{"bad address", "192.0.2.100/24", "192.0.2.300/24", "vips.rm-vip.address: not an IP prefix"},
		{"address without prefix", "192.0.2.100/24", "192.0.2.100", "vips.rm-vip.address: not an IP prefix"},
		{"interface with shell metacharacters", "interface: eth0", `interface: "eth0; rm -rf /"`, "vips.rm-vip.interface"},
		{"interface with newline", "interface: eth0", `interface: "eth0\nx"`, "vips.rm-vip.interface"},
		{"unknown backend", "backend: fake", "backend: magic", "vips.rm-vip.backend: must be one of"},
		{"peer without url", `url: "http://198.51.100.2:8470", `, "", "nodes.rm2.url: required for a peer node"},
		{"bad peer url", "http://198.51.100.2:8470", "ftp://x", "nodes.rm2.url: not an http(s) URL"},
		{"step with unknown vip", "- disable: rm-vip", "- disable: nope", `reactions.stop.steps[0]: unknown vip "nope"`},
		{"step on unknown node", "on: rm2", "on: rm3", `reactions.stop.steps[1].on: "rm3" is not one of nodes`},
		{"unknown condition", "when: [vip_released]", "when: [sometimes]", `reactions.stop.steps[1].when: unknown condition "sometimes"`},
		{"unknown command", "- run: notify", "- run: nothing", `reactions.stop.steps[2].run: unknown command "nothing"`},
		{"bad placeholder", `"{label:site}"`, `"{password}"`, "commands.notify.argv[2]: unknown placeholder {password}"},
		{"empty match", "match: {condition: [RM1_Stopped, RM1_Unexpected_Stop]}", "match: {}", "reactions.stop.match: empty"},
		{"force on disable", "- disable: rm-vip", "- disable: rm-vip\n        force: true", "reactions.stop.steps[0].force: only for enable"},
		{"negative timeout", "timeout: 5s", "timeout: -5s", "commands.notify.timeout: must not be negative"},
		{"rm_answers without address", "when: [vip_released]", "when: [rm_answers]", "rm_answers needs nodes.rm2.rm_address"},
		{"report header with newline", "reactions:", "reports: [{url: 'http://198.51.100.5/', headers: {'X-A': \"a\\nb\"}}]\nreactions:", "reports[0].headers.X-A: not a valid header value"},
		{"reserved report name", "reactions:", "reports: [{name: callback, url: 'http://198.51.100.5/'}]\nreactions:", `reports[0].name: "callback" is reserved`},
		{"token from unset env", `token: "0123456789abcdef0123"`, `token: "env:NO_SUCH_VAR"`, "nodes.rm2.token: environment variable NO_SUCH_VAR is empty or unset"},
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
			found := false
			for _, prob := range p {
				if strings.Contains(prob, tt.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("problems %q do not contain %q", p, tt.want)
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
		"nodes.rm1.url: required for a peer node",
		"vips.rm-vip.address: not an IP prefix such as 192.0.2.100/24",
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
