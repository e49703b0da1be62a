package genesys

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/config"
)

// Installed as GUIDE.md says (install-linux.sh -c with the config path),
// the wrappers find the config where the installer put it, also when
// genesys.config_file is not vipagent.yaml next to the binary.
func TestLinuxInstallerPutsTheConfigWhereTheWrappersLook(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("not on Linux (windows or other): install-linux.sh installs on Linux RM hosts")
	}
	requireInstall(t)
	tmp := t.TempDir()
	for _, configFile := range []string{"", "conf dir/site.yaml", filepath.Join(tmp, "etc dir", "vipagent.yaml")} {
		t.Run(configFile, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "install dir")
			g := config.Genesys{InstallDir: dir, Executable: "vipagentd", ConfigFile: configFile}
			wr := filepath.Join(t.TempDir(), "generated")
			files, err := Render(Objects{Platform: "linux", Wrappers: wrappers(g, false)})
			if err != nil {
				t.Fatal(err)
			}
			if err := Write(wr, files); err != nil {
				t.Fatal(err)
			}
			src := t.TempDir()
			bin, cfg := filepath.Join(src, "vipagent"), filepath.Join(src, "rm1.yaml")
			fake := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/argv\"\n"
			if err := os.WriteFile(bin, []byte(fake), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cfg, []byte("node: rm1\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			installer := filepath.Join(scriptsDir(t), "install-linux.sh")
			if out, err := exec.Command("sh", installer, "-d", dir, "-n", "vipagentd", "-w", wr, "-c", g.ConfigPath(), bin, cfg).CombinedOutput(); err != nil {
				t.Fatalf("installer: %v\n%s", err, out)
			}
			if out, err := exec.Command(filepath.Join(dir, "IPTakeOver.sh"), "enable", "1").CombinedOutput(); err != nil {
				t.Fatalf("installed IPTakeOver.sh: %v\n%s", err, out)
			}
			b, err := os.ReadFile(filepath.Join(dir, "argv"))
			if err != nil {
				t.Fatal(err)
			}
			argv := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			want := []string{"failover", "--config", g.ConfigPath(), "enable", "1"}
			if diff := cmp.Diff(want, argv); diff != "" {
				t.Errorf("the wrapper ran (-want +got):\n%s", diff)
			}
			if got, err := os.ReadFile(g.ConfigPath()); err != nil || string(got) != "node: rm1\n" {
				t.Errorf("the config the wrapper reads, %s: %q, %v; want the installed one", g.ConfigPath(), got, err)
			}
		})
	}
}

// requireInstall needs install(1) (coreutils; a minimal container may
// lack it).
func requireInstall(t *testing.T) {
	t.Helper()
	agenttest.RequireProgram(t, "install", "coreutils")
}
