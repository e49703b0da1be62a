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
	"path/filepath"
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
		"vipagent": func(string, []string, io.Writer) int { return 7 },
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
