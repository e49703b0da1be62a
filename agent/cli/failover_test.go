package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hookConfig is an RM host's config whose agent is down (nothing listens
// at listen) and whose tokens are env: references RM's environment lacks.
const hookConfig = `
node: rm1
listen: %s
data_dir: %s
nodes:
  rm1: {member_id: 1, host: rm1, rm_application: RM_1}
  rm2: {member_id: 2, host: rm2, rm_application: RM_2, url: "http://%s", token: "env:VIPAGENT_TEST_PEER"}
vips:
  rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake, options: {initial: present}}
auth:
  tokens:
    - {token: "env:VIPAGENT_TEST_ADMIN", role: admin}
    - {token: "env:VIPAGENT_TEST_TRIGGER", role: trigger}
reactions:
  - name: all
    match: {condition: "*"}
    steps: [{disable: rm-vip}]
`

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func writeHookConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "vipagent.yaml")
	body := fmt.Sprintf(hookConfig, closedAddr(t), filepath.Join(dir, "data"), closedAddr(t))
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// runCLI runs vipagent in RM's environment: no variable is set.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	return runCLIEnv(t, func(string) string { return "" }, args...)
}

func runCLIEnv(t *testing.T, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), args, getenv, strings.NewReader(""), &out, &errOut)
	if err != nil {
		fmt.Fprintln(&errOut, "vipagent:", err)
	}
	return ExitCode(err), out.String(), errOut.String()
}

// The hook runs in RM's environment, without the variables LCA's has: with
// the agent down, a local disable still happens in-process, although no
// configured token resolves.
func TestFailoverInProcessWithoutTokens(t *testing.T) {
	cfg := writeHookConfig(t)
	code, out, errOut := runCLI(t, "failover", "--config", cfg, "disable", "1")
	if code != ExitOK || !strings.Contains(out, "disable rm-vip on rm1 [fake]: changed") {
		t.Errorf("failover disable in RM's environment: exit %d\n%s%s", code, out, errOut)
	}
	// What needs admin still says which secret is missing and how to
	// provide it.
	code, _, errOut = runCLI(t, "vip", "--config", cfg, "enable", "rm-vip")
	if code != ExitUsage || !strings.Contains(errOut, "auth.tokens[0].token: env:VIPAGENT_TEST_ADMIN") || !strings.Contains(errOut, "file:") {
		t.Errorf("vip enable without the admin secret: exit %d, want %d naming the secret:\n%s", code, ExitUsage, errOut)
	}
}

// RM may add arguments after the member ID, also ones that look like flags:
// they are journaled, never refused. A malformed member ID is exit 2 saying
// so.
func TestFailoverArguments(t *testing.T) {
	cfg := writeHookConfig(t)
	tests := []struct {
		args []string
		code int
		// extra is what the event journals after the member ID.
		extra, msg string
	}{
		{args: []string{"disable", "1", "foo", "-x", "--y=z", "-1"}, code: ExitOK, extra: "foo -x --y=z -1"},
		{args: []string{"disable", "1", "-host", "h", "--wait", "20s"}, code: ExitOK},
		{args: []string{"disable", "--wait", "30s", "1", "--wait=20s", "-v"}, code: ExitOK, extra: "-v"},
		{args: []string{"disable", "-1"}, code: ExitUsage, msg: `MEMBERID must be a positive number such as 1 or 2, got "-1"`},
		{args: []string{"enable", "--2"}, code: ExitUsage, msg: `MEMBERID must be a positive number such as 1 or 2, got "--2"`},
		{args: []string{"disable", "x"}, code: ExitUsage, msg: `MEMBERID must be a positive number such as 1 or 2, got "x"`},
		{args: []string{"enable", "01"}, code: ExitUsage, msg: `MEMBERID must be a positive number such as 1 or 2, got "01"`},
		{args: []string{"enable", "+1"}, code: ExitUsage, msg: `MEMBERID must be a positive number such as 1 or 2, got "+1"`},
		{args: []string{"-x", "disable", "1"}, code: ExitUsage, msg: "unknown flag --x for failover"},
		{args: []string{"disable", "1", "--dryrun"}, code: ExitUsage, msg: "did you mean --dry-run?"},
		{args: []string{"disable", "1", "--jsno"}, code: ExitUsage, msg: "did you mean --json?"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			args := append([]string{"failover", "--config", cfg, "--json"}, tt.args...)
			code, out, errOut := runCLI(t, args...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Fatalf("exit %d, want %d with %q:\n%s%s", code, tt.code, tt.msg, out, errOut)
			}
			if code != ExitOK {
				return
			}
			var res struct {
				EventID string `json:"event_id"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("decode --json output: %v\n%s", err, out)
			}
			// Reading the journal needs the read role: as a person with
			// the admin token in the environment.
			admin := func(k string) string {
				if k == "VIPAGENT_TEST_ADMIN" {
					return "admin-token-for-the-test"
				}
				return ""
			}
			_, out, errOut = runCLIEnv(t, admin, "events", "--config", cfg, "--json", "show", res.EventID)
			var ev struct {
				Alarm struct {
					Labels map[string]string `json:"labels"`
				} `json:"alarm"`
			}
			if err := json.Unmarshal([]byte(out), &ev); err != nil {
				t.Fatalf("decode event: %v\n%s%s", err, out, errOut)
			}
			if diff := cmp.Diff(tt.extra, ev.Alarm.Labels["args"]); diff != "" {
				t.Errorf("journaled extra arguments (-want +got):\n%s", diff)
			}
		})
	}
}
