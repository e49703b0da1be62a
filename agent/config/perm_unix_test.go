//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// The config, file: secrets and TLS files are refused as OpenSSH refuses
// them: writable by group or others, owned by someone else, a secret or
// key readable by others, or the config in a directory others may write.
func TestFilePermissionsRefused(t *testing.T) {
	other := 4242 // a uid that is neither root nor this user
	if os.Getuid() == other {
		other = 4243
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir, cfg, secret, key string)
		want  string // "" when accepted
	}{
		{"safe modes", func(*testing.T, string, string, string, string) {}, ""},
		{"config group-readable", func(t *testing.T, _, cfg, _, _ string) { chmod(t, cfg, 0o640) }, ""},
		{"secret group-readable", func(t *testing.T, _, _, secret, _ string) { chmod(t, secret, 0o640) }, ""},
		{"config world-writable", func(t *testing.T, _, cfg, _, _ string) { chmod(t, cfg, 0o666) },
			"config: %CFG is writable by group or others (mode 0666): chmod go-w %CFG"},
		{"config group-writable", func(t *testing.T, _, cfg, _, _ string) { chmod(t, cfg, 0o664) },
			"config: %CFG is writable by group or others (mode 0664)"},
		{"config in a world-writable directory", func(t *testing.T, dir, _, _, _ string) { chmod(t, dir, 0o777) },
			"config: %CFG: its directory %DIR is writable by group or others (mode 0777), who could replace the file"},
		{"config in a sticky directory of another user", func(t *testing.T, dir, _, _, _ string) {
			chmod(t, dir, 0o1777)
			chown(t, dir, other)
		}, "its directory %DIR is owned by uid"},
		{"config owned by another user", func(t *testing.T, _, cfg, _, _ string) { chown(t, cfg, other) },
			"config: %CFG is owned by uid"},
		{"secret world-readable", func(t *testing.T, _, _, secret, _ string) { chmod(t, secret, 0o644) },
			"nodes.rm2.token: %SECRET is a secret readable by others (mode 0644): chmod o-rwx %SECRET"},
		{"secret world-writable", func(t *testing.T, _, _, secret, _ string) { chmod(t, secret, 0o602) },
			"nodes.rm2.token: %SECRET is writable by group or others"},
		{"secret owned by another user", func(t *testing.T, _, _, secret, _ string) { chown(t, secret, other) },
			"nodes.rm2.token: %SECRET is owned by uid"},
		{"TLS key world-readable", func(t *testing.T, _, _, _, key string) { chmod(t, key, 0o644) },
			"tls.key: %KEY is a secret readable by others (mode 0644)"},
		{"TLS cert world-writable", func(t *testing.T, dir, _, _, _ string) { chmod(t, filepath.Join(dir, "cert.pem"), 0o646) },
			"tls.cert: %DIR/cert.pem is writable by group or others"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "etc")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			secret := filepath.Join(dir, "peer.token")
			key := filepath.Join(dir, "key.pem")
			cert := filepath.Join(dir, "cert.pem")
			for _, f := range []string{secret, key, cert} {
				if err := os.WriteFile(f, []byte("0123456789abcdef0123\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			y := strings.Replace(validYAML, `token: "0123456789abcdef0123"`, `token: "file:`+secret+`"`, 1)
			y += "tls: {cert: " + cert + ", key: " + key + "}\n"
			cfg := filepath.Join(dir, "vipagent.yaml")
			if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, dir, cfg, secret, key)
			_, err := Load(cfg, noEnv)
			want := strings.NewReplacer("%CFG", cfg, "%DIR", dir, "%SECRET", secret, "%KEY", key).Replace(tt.want)
			switch {
			case want == "" && err != nil:
				t.Errorf("Load refused: %v", err)
			case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
				t.Errorf("Load = %v, want a problem with %q", err, want)
			}
		})
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if mode&0o1000 != 0 {
		mode = mode&0o777 | os.ModeSticky
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// chown gives path to uid; only root can, so the cases that need it need
// root (CI runs as root).
func chown(t *testing.T, path string, uid int) {
	t.Helper()
	agenttest.RequireRoot(t, "to give a file to another user")
	if err := os.Chown(path, uid, -1); err != nil {
		t.Fatal(err)
	}
}
