//go:build unix

package agent_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/agenttest"
)

func TestFailoverCommand(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	log := filepath.Join(dir, "calls")
	script := filepath.Join(dir, "IPTakeOver.sh")
	// A stand-in for Genesys' IPTakeOver script: it keeps the VIP state in
	// a file and logs its arguments.
	body := `#!/bin/sh
echo "$*" >> ` + log + `
case "$1" in
  enable) echo present > ` + state + ` ;;
  disable) echo absent > ` + state + ` ;;
  observe) [ "$(cat ` + state + ` 2>/dev/null)" = present ] && exit 0 || exit 1 ;;
esac
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, backend := range []string{"fake", "script"} {
		t.Run(backend, func(t *testing.T) {
			opts := "{initial: absent}"
			if backend == "script" {
				opts = fmt.Sprintf("{enable: [%q, enable, '${address}'], disable: [%q, disable, '${address}'], observe: [%q, observe]}", script, script, script)
			}
			cfgBody := strings.Replace(e2eConfig, "options: {initial: present}", "options: "+opts, 1)
			cfgBody = strings.Replace(cfgBody, "backend: fake\n    options: "+opts, "backend: "+backend+"\n    options: "+opts, 1)
			cfgBody = strings.Replace(cfgBody, "  rm1: {member_id: 1, host: rm1, rm_application: RM_1}",
				"  rm1: {member_id: 1, host: rm1, rm_application: RM_1}\n  rm2: {member_id: 2, url: 'http://127.0.0.1:1', token: 'peer-token-0123456789'}", 1)
			cfgBody += "failover: {vips: [rm-vip]}\n"
			cfg, addr := agenttest.WriteConfig(t, cfgBody)
			a := agenttest.Start(t, binary, cfg, addr)
			steps := []struct {
				args []string
				code int
				want string
			}{
				{[]string{"enable", "1"}, 0, "enable rm-vip on rm1 [" + backend + "]: changed"},
				{[]string{"enable"}, 0, "unchanged"},
				{[]string{"disable", "1", "-host", "h", "-app", "RM_1"}, 0, "disable rm-vip on rm1 [" + backend + "]: changed"},
				// Member 2 is the peer; it does not answer: an explicit failure, exit 1.
				{[]string{"enable", "2"}, 1, "enable rm-vip on rm2: failed"},
				{[]string{"enable", "x"}, 2, ""},
			}
			for _, s := range steps {
				code, out, errOut := vipagent(t, append(append([]string{"failover"}, s.args...), "--config", cfg)...)
				if code != s.code || !strings.Contains(out, s.want) {
					t.Errorf("failover %v: exit %d, want %d with %q\n%s%s", s.args, code, s.code, s.want, out, errOut)
				}
			}
			a.Kill()
			// Through the wrapper script, with no agent running: in-process.
			wrapper := filepath.Join("..", "scripts", "IPTakeOver.sh")
			bin := filepath.Join(filepath.Dir(cfg), "vipagent")
			if err := os.Symlink(binary, bin); err != nil {
				t.Fatal(err)
			}
			w := filepath.Join(filepath.Dir(cfg), "IPTakeOver.sh")
			data, err := os.ReadFile(wrapper)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(w, data, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(w, "enable", "1")
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "changed") {
				t.Errorf("wrapper: %v\n%s", err, out)
			}
		})
	}
	calls, _ := os.ReadFile(log)
	if !strings.Contains(string(calls), "enable 192.0.2.100") || !strings.Contains(string(calls), "disable 192.0.2.100") {
		t.Errorf("script backend calls:\n%s", calls)
	}
}
