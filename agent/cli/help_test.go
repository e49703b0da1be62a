package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A command's --help is a request, not a mistake: that command's help
// (synopsis, examples, exit codes, the shared flags it takes) on stdout,
// exit 0 and nothing on stderr; an unknown flag is exit 2 with the help on
// stderr and the error only in the returned error, naming the flag with two
// dashes.
func TestHelpExitsZeroUnknownFlagExitsTwo(t *testing.T) {
	getenv := func(string) string { return "" }
	for _, c := range commands {
		cmd := c.name
		t.Run(cmd, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := Run(context.Background(), []string{cmd, "--help"}, getenv, nil, &out, &errOut)
			if err != nil || ExitCode(err) != ExitOK {
				t.Errorf("%s --help: %v (exit %d), want nil", cmd, err, ExitCode(err))
			}
			help := out.String()
			if cmd != "help" {
				for _, want := range []string{"Usage:\n  vipagent " + cmd, "Examples:\n  vipagent " + cmd, "Exit codes:"} {
					if !strings.Contains(help, want) {
						t.Errorf("%s --help lacks %q:\n%s", cmd, want, help)
					}
				}
				// Every shared flag the command takes, as it is written.
				for _, f := range c.shared {
					if !strings.Contains(help, "  --"+f) {
						t.Errorf("%s --help lacks --%s:\n%s", cmd, f, help)
					}
				}
				if slices.Contains(c.shared, "json") && !strings.Contains(help, "  -o FORMAT") {
					t.Errorf("%s --help lacks -o FORMAT beside --json:\n%s", cmd, help)
				}
			}
			if errOut.Len() != 0 {
				t.Errorf("%s --help: unexpected stderr:\n%s", cmd, errOut.String())
			}
			if cmd == "help" {
				return
			}
			out.Reset()
			errOut.Reset()
			err = Run(context.Background(), []string{cmd, "--colour", "red"}, getenv, nil, &out, &errOut)
			if ExitCode(err) != ExitUsage || err == nil || !strings.Contains(err.Error(), "unknown flag --colour for "+cmd) {
				t.Errorf("%s --colour: %v (exit %d), want exit 2 naming the flag", cmd, err, ExitCode(err))
			}
			if strings.Contains(errOut.String(), "unknown flag") || !strings.Contains(errOut.String(), "Usage:\n  vipagent "+cmd) {
				t.Errorf("%s --colour: stderr should hold the command's help and not the error (main prints that once):\n%s", cmd, errOut.String())
			}
		})
	}
}

// Specific help: flags with their defaults.
func TestHelpShowsDefaults(t *testing.T) {
	_, out, _ := runCLI(t, "failover", "--help")
	for _, want := range []string{"--wait DURATION", "(default 2m0s)", "--config FILE", "--dry-run", "enable|disable [MEMBERID"} {
		if !strings.Contains(out, want) {
			t.Errorf("failover --help lacks %q:\n%s", want, out)
		}
	}
}

// Mistakes name what would be right.
func TestUsageErrors(t *testing.T) {
	cfg := writeHookConfig(t)
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"config", "chek"}, `unknown config subcommand "chek" (did you mean "check"?)`},
		{[]string{"confg", "check"}, `unknown command "confg" (did you mean "config"?)`},
		{[]string{"events", "lsit"}, `(did you mean "list"?)`},
		{[]string{"vip", "stauts"}, `(did you mean "status"?)`},
		{[]string{"reports", "retyr", "x"}, `(did you mean "retry"?)`},
		{[]string{"journal", "chekc"}, `(did you mean "check"?)`},
		{[]string{"rules", "tset"}, `(did you mean "test"?)`},
		{[]string{"failover", "enabel", "1"}, `(did you mean "enable"?)`},
		{[]string{"fire", "--conditon", "X"}, "unknown flag --conditon for fire (did you mean --condition?)"},
		{[]string{"fire", "--condition", "X", "--wait", "5"}, "--wait: 5 is not a duration (try 5s)"},
		{[]string{"fire", "--condition", "X", "--wait", "soon"}, `--wait: "soon" is not a duration`},
		{[]string{"events", "list", "--limit", "many"}, `--limit: "many" is not a whole number`},
		{[]string{"fire", "--condition"}, "--condition needs a value"},
		{[]string{"serve", "--json"}, "serve takes no --json: it prints no data"},
		{[]string{"vip", "enable", "rm-vip", "--dry-run"}, "vip takes no --dry-run"},
		{[]string{"--conifg", cfg, "config", "check"}, "unknown flag --conifg before the command (did you mean --config?)"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.args...)
			if code != ExitUsage || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d, want 2 with %q:\n%s", code, tt.msg, errOut)
			}
		})
	}
}

// Shared flags may come before the command.
func TestGlobalFlagsBeforeCommand(t *testing.T) {
	cfg := writeHookConfig(t)
	code, out, errOut := runCLI(t, "--config", cfg, "config", "check")
	if code != ExitOK || !strings.Contains(out, cfg+": ok") {
		t.Errorf("--config F config check: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "--json", "--config="+cfg, "rules", "test", "--condition", "RM1_Stopped")
	var v PlanView
	if code != ExitOK || json.Unmarshal([]byte(out), &v) != nil || !v.Matched {
		t.Errorf("--json --config=F rules test: exit %d\n%s%s", code, out, errOut)
	}
}

// No help or dry-run word acts, wherever it stands: the line prints help
// (exit 0) or the plan, and the agent is never asked and the journal never
// opened (the config's data directory is never created).
func TestNothingRunsFromHelpOrDryRunWords(t *testing.T) {
	cfg := writeHookConfig(t)
	data := filepath.Join(filepath.Dir(cfg), "data")
	lines := [][]string{
		{"failover", "enable", "1"},
		{"failover", "disable", "1", "extra", "-host", "h"},
		{"fire", "--condition", "RM1_Stopped"},
		{"vip", "disable", "rm-vip"},
		{"vip", "enable", "rm-vip", "--force"},
		{"replay", "rm1-20261125T101500-000001"},
		{"reports", "retry", "r1"},
		{"events", "list"},
		{"serve"},
		{"demo"},
		{"genesys", "--out", filepath.Join(data, "genesys")},
		{"journal", "salvage", "--from", cfg},
		{"journal", "check"},
		{"config", "check"},
		{"rules", "test", "--condition", "RM1_Stopped"},
		{"version"},
	}
	for _, line := range lines {
		for _, word := range []string{"-h", "--help", "-help", "/?"} {
			for at := 0; at <= len(line); at++ {
				args := slices.Concat([]string{"--config", cfg}, line[:at], []string{word}, line[at:])
				if at == 0 {
					args = slices.Concat(line[:1], []string{word, "--config", cfg}, line[1:])
				}
				code, out, errOut := runCLI(t, args...)
				if code != ExitOK || !strings.Contains(out, "Usage:\n  vipagent "+line[0]) || errOut != "" {
					t.Errorf("%q: exit %d, want 0 and %s's help:\n%s%s", args, code, line[0], out, errOut)
				}
			}
		}
	}
	for _, args := range [][]string{
		{"failover", "enable", "1", "--dry-run"},
		{"failover", "--dry-run", "disable", "1", "-host", "h", "extra"},
		{"failover", "disable", "1", "extra", "--dry-run"},
		{"fire", "--condition", "RM1_Stopped", "--dry-run"},
		{"--dry-run", "fire", "--condition", "RM1_Stopped"},
	} {
		code, out, errOut := runCLI(t, slices.Concat(args, []string{"--config", cfg})...)
		if code != ExitOK || !strings.Contains(out, "would run (nothing was done)") {
			t.Errorf("%q: exit %d, want 0 and a plan:\n%s%s", args, code, out, errOut)
		}
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("the data directory %s exists (%v): something ran", data, err)
	}
}

// --json prints JSON wherever it is taken, also for a refused config.
func TestJSONOutputs(t *testing.T) {
	cfg := writeHookConfig(t)
	bad := filepath.Join(t.TempDir(), "missing.yaml")
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"config", "check", "--config", cfg}, ExitOK},
		{[]string{"config", "check", "--config", bad}, ExitUsage},
		{[]string{"version"}, ExitOK},
		{[]string{"rules", "test", "--config", cfg, "--condition", "X"}, ExitOK},
		{[]string{"failover", "enable", "1", "--dry-run", "--config", cfg}, ExitOK},
	} {
		code, out, errOut := runCLI(t, append(tt.args, "--json")...)
		var v map[string]any
		if code != tt.code || json.Unmarshal([]byte(out), &v) != nil {
			t.Errorf("%q --json: exit %d (want %d), output not one JSON object:\n%s%s", tt.args, code, tt.code, out, errOut)
		}
	}
}
