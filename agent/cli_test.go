package agent_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/agenttest"
)

func TestCLIUsageAndConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`
node: rm1
nodes: {rm1: {}}
vips: {v: {address: 192.0.2.1, interface: "eth0|x", backend: fake, options: {bogus: 1}}}
schedules: {reconcile: "every now and then"}
reactions: [{name: r, match: {condition: X}, steps: [{disable: nope}]}]
`), 0o600)
	tests := []struct {
		name string
		args []string
		code int
		out  []string // in stdout or stderr
	}{
		{"no command", nil, 2, []string{"Usage:"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`}},
		{"help", []string{"--help"}, 0, []string{"Exit codes:", "4  not accepted", "5  accepted as an event, outcome unknown"}},
		{"version", []string{"version"}, 0, []string{"vipagent "}},
		{"built-in config is fine", []string{"config", "check"}, 0, []string{"built-in configuration: ok (node rm1, 1 vips, 4 reactions)"}},
		{"every problem at once", []string{"config", "check", "--config", bad}, 2, []string{
			bad + `:4:12: vips.v.address: "192.0.2.1" has no prefix length: write the subnet's, such as 192.0.2.1/24`,
			bad + ":5:13: schedules.reconcile",
			`vips.v.interface: "eth0|x" has characters that are not allowed`,
			`reactions.r.steps[0]: unknown vip "nope"`,
		}},
		{"backend options and schedules once the rest is valid", []string{"config", "check", "--config", writeFile(t, dir, "b2.yaml", `
node: rm1
nodes: {rm1: {}}
vips: {v: {address: 192.0.2.1/24, backend: fake, options: {bogus: 1}}}
schedules: {reconcile: "every now and then"}
`)}, 2, []string{"schedules.reconcile", "vips.v: fake backend: options.bogus: unknown option"}},
		{"a one-node Linux config needs no Genesys or Windows fields", []string{"config", "check", "--config", writeFile(t, dir, "linux.yaml", `
node: rm1
nodes: {rm1: {}}
vips: {v: {address: 192.0.2.1/24, interface: eth0, backend: ip}}
reactions: [{name: r, match: {condition: X}, steps: [{disable: v}]}]
`)}, 0, []string{"linux.yaml: ok (node rm1, 1 vips, 1 reactions)"}},
		{"a typo gets a suggestion and a position", []string{"config", "check", "--config", writeFile(t, dir, "typo.yaml", "node: rm1\nlisen: 127.0.0.1:8470\nnodes: {rm1: {}}\n")}, 2,
			[]string{"typo.yaml:2:1: lisen: unknown key; did you mean listen?"}},
		{"a placeholder in sh -c is refused", []string{"config", "check", "--config", writeFile(t, dir, "shell.yaml", `
node: rm1
nodes: {rm1: {}}
commands: {notify: {argv: [/bin/sh, -c, "echo ${text}"]}}
`)}, 2, []string{"shell.yaml:4:41: commands.notify.argv[2]: \"echo ${text}\" hands a placeholder to /bin/sh", "shell_placeholders: i-understand-this-runs-a-shell"}},
		{"missing config file", []string{"config", "check", "--config", filepath.Join(dir, "nope.yaml")}, 2, []string{"read config"}},
		{"bad flag", []string{"fire", "--colour", "red"}, 2, []string{"unknown flag --colour for fire"}},
		{"genesys needs --out", []string{"genesys"}, 2, []string{"usage: vipagent genesys"}},
		{"failover needs an action", []string{"failover", "toggle"}, 2, []string{`unknown failover subcommand "toggle": one of enable, disable`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := vipagent(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, want := range tt.out {
				if !strings.Contains(out+errOut, want) {
					t.Errorf("output lacks %q:\n%s%s", want, out, errOut)
				}
			}
		})
	}
}

// config check and serve refuse every configuration problem with exit 2,
// each problem once and named by its path.
func TestConfigProblemsExitTwoOnce(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		out  []string
	}{
		{"YAML-level problems with the others, by path", []string{"config", "check", "--config", writeFile(t, dir, "y.yaml", `
node: rm1
listen: ':http'
nodes: {rm1: {}, RM1: {}}
vips: {v: {address: 0.0.0.0/0, backend: fake, timeout: 5x}, w: {address: 192.0.2.1/24, backend: fake}}
limits: {shutdown_grace: -1s}
schedules: {report_max_age: 0s}
commands: {p: {argv: ["${text}", x]}}
tls: {cert: `+filepath.Join(dir, "missing.pem")+`, key: `+filepath.Join(dir, "missing.key")+`}
---
node: rm2
`)}, 2, []string{
			"config: a second YAML document (line 10)",
			`vips.v.timeout: "5x" is not a duration (try "20s")`,
			`listen: port "http" is not a number from 0 to 65535`,
			"nodes.rm1: differs from nodes.RM1 only in case",
			"vips.v.address: 0.0.0.0/0 is not one host's address",
			"limits.shutdown_grace: -1s: must be positive",
			"schedules.report_max_age: 0s: must be positive",
			"commands.p.argv[0]: the program cannot be a placeholder",
			"tls.cert: cannot be read",
		}},
		{"serve refuses missing TLS files with exit 2", []string{"serve", "--config", writeFile(t, dir, "tls.yaml", `
node: rm1
nodes: {rm1: {}}
data_dir: data
vips: {v: {address: 192.0.2.1/24, backend: fake}}
tls: {cert: `+filepath.Join(dir, "missing.pem")+`, key: `+filepath.Join(dir, "missing.key")+`}
`)}, 2, []string{"tls.cert: cannot be read", "tls.key: cannot be read"}},
	}
	// A data_dir that is a file is refused by every command that reads the
	// config, naming the path, not found later by serve as "mkdir: not a
	// directory".
	notDir := writeFile(t, dir, "not-a-dir", "x")
	for _, cmd := range [][]string{{"config", "check"}, {"serve"}, {"fire", "--condition", "X"}} {
		tests = append(tests, struct {
			name string
			args []string
			code int
			out  []string
		}{cmd[0] + " refuses a data_dir that is a file", append(cmd, "--config", writeFile(t, dir, "dd.yaml", `
node: rm1
nodes: {rm1: {}}
listen: `+agenttest.FreeAddr(t)+`
data_dir: `+notDir+`
vips: {v: {address: 192.0.2.1/24, backend: fake}}
`)), 2, []string{"data_dir: " + notDir + " exists and is not a directory"}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := vipagent(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, want := range tt.out {
				if n := strings.Count(out+errOut, want); n != 1 {
					t.Errorf("output has %q %d times, want once:\n%s%s", want, n, out, errOut)
				}
			}
			if strings.Contains(out+errOut, "backend: netsh backend") {
				t.Errorf("doubled prefix:\n%s", errOut)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLIGenesysAndDemo(t *testing.T) {
	out := filepath.Join(t.TempDir(), "genesys")
	code, stdout, errOut := vipagent(t, "genesys", "--out", out)
	if code != 0 {
		t.Fatalf("genesys: exit %d\n%s%s", code, stdout, errOut)
	}
	for _, f := range []string{"GUIDE.md", "genesys-objects.yaml", "genesys-objects.json", "VIPAgent_ThirdPartyServer.template.xml", "VIPAgent_Reaction.template.xml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("genesys did not write %s: %v", f, err)
		}
	}
	code, stdout, errOut = vipagent(t, "demo")
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s%s", code, stdout, errOut)
	}
	for _, want := range []string{
		"step 0: disable rm-vip on rm1 [fake]: changed (present -> absent)",
		"(duplicate: answered from the journal, nothing executed)",
		"unchanged (absent -> absent)",
		": unmatched",
		"replay of: ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestLogFile(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "logs", "vipagent.log")
	cfg := writeFile(t, dir, "c.yaml", `
node: rm1
data_dir: `+filepath.Join(dir, "data")+`
nodes: {rm1: {}}
vips: {rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake, options: {initial: present}}}
reactions: [{name: stop, match: {condition: RM1_Stopped}, steps: [{disable: rm-vip}]}]
log: {file: `+logFile+`, max_size_mb: 1, max_files: 2, format: json}
`)
	code, out, errOut := vipagent(t, "fire", "--condition", "RM1_Stopped", "--direct", "--config", cfg)
	if code != 0 {
		t.Fatalf("fire: exit %d\n%s%s", code, out, errOut)
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("no log file: %v", err)
	}
	// The same JSON lines as stderr, each about the event carrying its ID.
	if !strings.Contains(string(data), `"event_id":"rm1-`) || !strings.Contains(string(data), `"message":"step done"`) {
		t.Errorf("log file:\n%s", data)
	}
	if !strings.Contains(errOut, `"message":"step done"`) {
		t.Errorf("stderr lacks the log lines:\n%s", errOut)
	}
}
