package genesys

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// install-linux.sh --systemd into a staging root: the agent's unit runs it
// as its own account with only the network capabilities, writing only the
// data directory, with a runtime directory for the local socket and a
// reload; the config and the secret files are readable by the hooks' group
// and nobody else; nothing is started, and the script says what is left.
// systemd-analyze verify accepts the unit.
func TestLinuxInstallerSystemdUnit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("not on Linux (windows or other): install-linux.sh installs on Linux RM hosts")
	}
	requireInstall(t)
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	bin := filepath.Join(tmp, "build", "vipagent")
	cfg := filepath.Join(tmp, "rm1.yaml")
	secret := filepath.Join(tmp, "hook.token")
	for path, data := range map[string]string{
		bin:    "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/argv\"\n",
		cfg:    "node: rm1\n",
		secret: "trigger-token-0123456789abcdef\n",
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", filepath.Join(scriptsDir(t), "install-linux.sh"), "--systemd", "--destdir", root,
		"--user", "vipagent", "--group", "vipagent-hooks", "--hook-user", "genesys", "--secret", secret,
		"--data-dir", "/var/lib/vipagent", "-d", "/opt/vipagent", "-c", "/etc/vipagent/vipagent.yaml", bin, cfg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("installer: %v\n%s", err, out)
	}
	for _, w := range []string{"nothing was started", "systemctl enable --now vipagent", "local: {socket: /run/vipagent/vipagent.sock, groups: [vipagent-hooks]}"} {
		if !bytes.Contains(out, []byte(w)) {
			t.Errorf("the installer's output does not say %q:\n%s", w, out)
		}
	}
	for path, mode := range map[string]os.FileMode{
		"/opt/vipagent/vipagent":               0o755,
		"/etc/vipagent/vipagent.yaml":          0o640,
		"/etc/vipagent/secrets":                0o750 | os.ModeDir,
		"/etc/vipagent/secrets/hook.token":     0o640,
		"/var/lib/vipagent":                    0o750 | os.ModeDir,
		"/etc/systemd/system/vipagent.service": 0o644,
	} {
		st, err := os.Stat(filepath.Join(root, path))
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if got := st.Mode() & (os.ModeDir | os.ModePerm); got != mode {
			t.Errorf("%s: mode %v, want %v", path, got, mode)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "/etc/vipagent/secrets/hook.token")); string(b) != "trigger-token-0123456789abcdef\n" {
		t.Errorf("secret file: %q", b)
	}
	argv, _ := os.ReadFile(filepath.Join(root, "/opt/vipagent/argv"))
	if want := "config\ncheck\n--config\n" + filepath.Join(root, "/etc/vipagent/vipagent.yaml") + "\n"; string(argv) != want {
		t.Errorf("the installer ended with %q, want the config check of the installed config", argv)
	}
	unitPath := filepath.Join(root, "/etc/systemd/system/vipagent.service")
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"User=vipagent", "Group=vipagent-hooks",
		`ExecStart="/opt/vipagent/vipagent" serve --config "/etc/vipagent/vipagent.yaml"`,
		"ExecReload=/bin/kill -HUP $MAINPID",
		"AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW", "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/vipagent",
		"RuntimeDirectory=vipagent", "RuntimeDirectoryMode=0750",
	} {
		if !bytes.Contains(unit, []byte("\n"+line+"\n")) {
			t.Errorf("the unit lacks %q:\n%s", line, unit)
		}
	}

	agenttest.RequireProgram(t, "systemd-analyze", "systemd")
	// verify checks that ExecStart exists: point it at the staged binary.
	staged := filepath.Join(tmp, "vipagent.service")
	if err := os.WriteFile(staged, bytes.ReplaceAll(unit, []byte(`"/opt/vipagent/`), []byte(`"`+root+`/opt/vipagent/`)), 0o644); err != nil {
		t.Fatal(err)
	}
	v := exec.Command("systemd-analyze", "verify", staged)
	v.Dir = tmp
	vout, err := v.CombinedOutput()
	if err != nil || strings.TrimSpace(string(vout)) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, vout)
	}
}
