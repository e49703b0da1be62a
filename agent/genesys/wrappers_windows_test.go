package genesys

// The .bat wrappers that RM's failoverscript and people run, for real:
// through cmd.exe, from a directory with a space, calling a stand-in
// vipagent.exe (the test binary, see TestMain) that records the command
// line cmd.exe built and exits 7.

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/windows"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/command"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

func TestMain(m *testing.M) {
	viptest.RunFakes(map[string]viptest.Fake{
		"vipagent":    func(string, []string, io.Writer) int { return 7 },
		trickyExeStem: func(string, []string, io.Writer) int { return 7 },
	})
	os.Exit(m.Run())
}

func TestBatchWrappersRunTheBinary(t *testing.T) {
	sysdir, err := windows.GetSystemDirectory()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		script string
		args   []string
		// tail follows the config on vipagent's command line; an empty %*
		// leaves its separating space behind, as cmd.exe does.
		tail string
	}{
		{"IPTakeOver.bat", []string{"enable", "1"}, "enable 1"},
		{"NLB.bat", []string{"disable", "2"}, "disable 2"},
		{"INIT_IPTakeOver.bat", nil, "disable "},
		{"INIT.bat", nil, "disable "},
	}
	for _, tc := range tests {
		t.Run(tc.script, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "install dir")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			src, err := os.ReadFile(filepath.Join(scriptsDir(t), tc.script))
			if err != nil {
				t.Fatal(err)
			}
			script := filepath.Join(dir, tc.script)
			if err := os.WriteFile(script, src, 0o644); err != nil {
				t.Fatal(err)
			}
			viptest.InstallFake(t, dir, "vipagent")

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			argv := append([]string{filepath.Join(sysdir, "cmd.exe"), "/d", "/s", "/c", script}, tc.args...)
			_, err = command.Run(ctx, argv, command.Options{})
			var ee *reactions.ExecError
			if !errors.As(err, &ee) || ee.ExitCode != 7 {
				t.Fatalf("run %s: %v, want exit status 7 from the binary", tc.script, err)
			}
			exe, cfg := filepath.Join(dir, "vipagent.exe"), filepath.Join(dir, "vipagent.yaml")
			want := []viptest.Invocation{{
				CommandLine: `"` + exe + `" failover --config "` + cfg + `" ` + tc.tail,
				Args:        append([]string{"failover", "--config", cfg}, tc.args...),
			}}
			if tc.args == nil {
				want[0].Args = append(want[0].Args, "disable")
			}
			if diff := cmp.Diff(want, viptest.Invocations(t, dir)); diff != "" {
				t.Errorf("vipagent.exe invocations (-want +got):\n%s", diff)
			}
		})
	}
}

// trickyExeStem is a binary name with every character cmd.exe treats
// specially outside quotes, or with delayed expansion on.
const trickyExeStem = "v&a^!b!(1)%x%"

// A wrapper generated for an install directory and a binary name full of
// cmd.exe's special characters runs that binary with the config beside it
// and every argument RM gave, even with delayed expansion turned on (by the
// caller's /v:on here; by the registry on some hosts), and returns its exit
// code.
func TestGeneratedBatchWrapperSpecialCharacters(t *testing.T) {
	sysdir, err := windows.GetSystemDirectory()
	if err != nil {
		t.Fatal(err)
	}
	// No ! or % in the directory: with /v:on, or an unmatched %, the
	// calling cmd.exe itself would expand them in its own command line
	// before the script starts. The binary's name has them: only the
	// script spells it.
	dir := filepath.Join(t.TempDir(), "GCTI & co (x86) ^c")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := load(t, strings.Replace(netshYAML, "  executable: vipagent-gvp.exe", "  executable: '"+trickyExeStem+".exe'", 1))
	cfg.Genesys.InstallDir = dir
	o, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	files, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, map[string][]byte{"IPTakeOver.bat": files["IPTakeOver.bat"]}); err != nil {
		t.Fatal(err)
	}
	viptest.InstallFake(t, dir, trickyExeStem)

	// As a careful caller starts a script whose path needs quoting: the
	// whole command in one more pair of quotes.
	script := filepath.Join(dir, "IPTakeOver.bat")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(sysdir, "cmd.exe"))
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: `cmd.exe /d /v:on /c ""` + script + `" enable 2 -x --y=z"`}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("run %s: %v, want exit status 7 from the binary\n%s", script, err, out)
	}
	want := []string{"failover", "--config", filepath.Join(dir, "vipagent.yaml"), "enable", "2", "-x", "--y=z"}
	inv := viptest.Invocations(t, dir)
	if len(inv) != 1 {
		t.Fatalf("binary started %d times, want once: %+v\n%s", len(inv), inv, out)
	}
	if diff := cmp.Diff(want, inv[0].Args); diff != "" {
		t.Errorf("arguments of %s.exe (-want +got):\n%s", trickyExeStem, diff)
	}
}
