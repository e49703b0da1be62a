package agent_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// webhookOnlyConfig authenticates with the webhook secret alone; %s is
// replaced by the local section.
const webhookOnlyConfig = `
node: rm1
listen: %s
data_dir: %s
nodes:
  rm1: {member_id: 1, host: rm1, rm_application: RM_1}
vips:
  rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake, options: {initial: present}}
failover:
  vips: [rm-vip]
reactions:
  - name: rm1-stopped
    match: {condition: [RM1_Stopped]}
    steps: [{disable: rm-vip}]
auth:
  webhook_secret: webhook-secret-0123456789abcdef
log:
  format: json
`

// With only auth.webhook_secret, `config check` says ok and the hooks
// work: over TCP the command signs with the secret, on the local channel
// the kernel names it and no credential is needed.
func TestWebhookOnlyAuthServesTheHooks(t *testing.T) {
	for _, local := range []bool{false, true} {
		t.Run(fmt.Sprintf("local=%v", local), func(t *testing.T) {
			body := webhookOnlyConfig
			var sock string
			if local {
				sock = filepath.Join(t.TempDir(), "run", "vipagent.sock")
				body += "local: {socket: " + sock + "}\n"
			}
			cfg, addr := agenttest.WriteConfig(t, body)
			if code, out, errOut := vipagent(t, "config", "check", "--config", cfg); code != 0 {
				t.Fatalf("config check: exit %d\n%s%s", code, out, errOut)
			}
			agenttest.Start(t, binary, cfg, addr)
			if local {
				st, err := os.Lstat(sock)
				if err != nil || st.Mode().Perm() != 0o660 || st.Mode().Type() != os.ModeSocket {
					t.Fatalf("socket %s: %v %v, want a socket with mode 0660", sock, st, err)
				}
			}
			for _, cmd := range [][]string{
				{"fire", "--condition", "RM1_Stopped", "--wait", "5s"},
				{"failover", "disable", "--wait", "5s"},
				{"failover", "enable", "1", "--wait", "5s"},
			} {
				code, out, errOut := vipagent(t, append(cmd, "--config", cfg)...)
				if code != 0 || !strings.Contains(out, "succeeded") || strings.Contains(errOut, "in-process") {
					t.Errorf("%v: exit %d, want 0 from the agent:\n%s%s", cmd, code, out, errOut)
				}
			}
			// What needs admin still needs a token over TCP; on the local
			// channel root is admin.
			code, out, errOut := vipagent(t, "vip", "--config", cfg, "disable", "rm-vip", "--wait", "5s")
			if local && code != 0 || !local && code != 2 {
				t.Errorf("vip disable (admin): exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// The local channel admits the accounts the config names, checked with
// SO_PEERCRED, and no one else; a socket whose directory others may write
// is not used.
func TestLocalChannelChecksTheCaller(t *testing.T) {
	agenttest.RequireRoot(t, "to run the command as another account")
	dir := t.TempDir()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	bin := filepath.Join(dir, "vipagent")
	copyFile(t, binary, bin, 0o755)
	sock := filepath.Join(dir, "run", "vipagent.sock")
	os.Mkdir(filepath.Join(dir, "run"), 0o755)
	addr := agenttest.FreeAddr(t)
	cfgFor := func(users string) string {
		p := filepath.Join(dir, "vipagent-"+users+".yaml")
		// The tokens come from the agent's environment only: the other
		// account has none, so only the local channel can serve it.
		body := fmt.Sprintf(webhookOnlyConfig, addr, filepath.Join(dir, "data")) +
			"local: {socket: " + sock + ", group: \"65534\", users: [" + users + "]}\n"
		body = strings.Replace(body, "webhook_secret: webhook-secret-0123456789abcdef", "webhook_secret: env:VIPAGENT_TEST_WEBHOOK", 1)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	allowed, refused := cfgFor("nobody"), cfgFor("\"12345\"")
	t.Setenv("VIPAGENT_TEST_WEBHOOK", "webhook-secret-0123456789abcdef")
	asNobody := func(cfg string, args ...string) (int, string) {
		cmd := exec.Command(bin, append(args, "--config", cfg)...)
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, string(out)
	}

	p := agenttest.Start(t, binary, refused, addr)
	code, out := asNobody(refused, "fire", "--condition", "RM1_Stopped", "--wait", "5s")
	if code != 2 || !strings.Contains(out, "uid 65534") || strings.Contains(out, "succeeded") {
		t.Errorf("an account not in local.users: exit %d, want 2 naming it:\n%s", code, out)
	}
	p.Kill()

	agenttest.Start(t, binary, allowed, addr)
	code, out = asNobody(allowed, "fire", "--condition", "RM1_Stopped", "--wait", "5s")
	if code != 0 || !strings.Contains(out, "succeeded") {
		t.Errorf("local.users: [nobody]: exit %d, want 0:\n%s", code, out)
	}
	// Trigger, not admin: a local caller's role is local.role.
	code, out = asNobody(allowed, "vip", "disable", "rm-vip", "--wait", "5s")
	if code != 2 || strings.Contains(out, "succeeded") {
		t.Errorf("vip disable as a trigger-only local caller: exit %d, want 2:\n%s", code, out)
	}

	// A directory others may write could hold anyone's socket: refused.
	os.Chmod(filepath.Join(dir, "run"), 0o777)
	code, out = asNobody(allowed, "fire", "--condition", "RM1_Stopped", "--wait", "5s")
	if code != 2 || !strings.Contains(out, "writable by group or others") {
		t.Errorf("socket directory mode 0777: exit %d, want 2:\n%s", code, out)
	}
	os.Chmod(filepath.Join(dir, "run"), 0o755)
}

// A frozen agent (SIGSTOP) accepts connections and never answers: every
// command ends within its bound, --wait or not, with exit 4 "not accepted"
// and never "succeeded".
func TestCommandsBoundedAgainstAFrozenAgent(t *testing.T) {
	cfg, addr := agenttest.WriteConfig(t, e2eConfig)
	p := agenttest.Start(t, binary, cfg, addr)
	if err := p.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Cmd.Process.Signal(syscall.SIGCONT) })
	for _, tt := range []struct {
		args  []string
		bound time.Duration
	}{
		{[]string{"fire", "--condition", "RM1_Unexpected_Stop", "--wait", "1s"}, 3 * time.Second},
		{[]string{"failover", "enable", "1", "--wait", "1s"}, 3 * time.Second},
		{[]string{"vip", "status", "--wait", "1s"}, 3 * time.Second},
		{[]string{"events", "list"}, 12 * time.Second}, // no --wait: 10 s plus 2 s
	} {
		start := time.Now()
		code, out, errOut := vipagent(t, append(tt.args, "--config", cfg)...)
		took := time.Since(start)
		if code != 4 || !strings.Contains(errOut, "vipagent: not accepted: ") || strings.Contains(out, "succeeded") {
			t.Errorf("%v: exit %d, want 4 \"not accepted\":\n%s%s", tt.args, code, out, errOut)
		}
		if took > tt.bound+time.Second {
			t.Errorf("%v: took %s, bound %s", tt.args, took, tt.bound)
		}
	}
}
