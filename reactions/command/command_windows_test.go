package command

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// TestRunKillsJobTree times out a program whose child started a grandchild,
// started directly and from a batch file through cmd.exe: the job object
// must take the whole tree, which the test checks PID by PID through the
// Windows API.
func TestRunKillsJobTree(t *testing.T) {
	sysdir, err := windows.GetSystemDirectory()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		argv func(dir, sleeper string) []string
		// cmdExe says ppid.0, the sleeper's parent, is cmd.exe and must go too.
		cmdExe bool
	}{
		{
			name: "program",
			argv: func(dir, sleeper string) []string { return []string{sleeper} },
		},
		{
			name: "batch file",
			argv: func(dir, sleeper string) []string {
				bat := filepath.Join(dir, "long running.bat")
				if err := os.WriteFile(bat, []byte("@echo off\r\necho starting\r\n\"%~dp0sleeper.exe\"\r\necho not reached\r\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return []string{filepath.Join(sysdir, "cmd.exe"), "/d", "/s", "/c", bat}
			},
			cmdExe: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			argv := tt.argv(dir, viptest.InstallFake(t, dir, "sleeper"))
			ctx := viptest.TreeDeadline(t, dir, time.Minute)

			var res reactions.Exec
			var err error
			viptest.ReturnsAfterDeadline(t, ctx, 30*time.Second, func() { res, err = Run(ctx, argv, Options{}) })
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Run = %v, want DeadlineExceeded", err)
			}
			var ee *reactions.ExecError
			if !errors.As(err, &ee) || ee.Argv[0] != argv[0] {
				t.Errorf("Run = %v, want an ExecError for %s", err, argv[0])
			}
			if res.ExitCode != -1 {
				t.Errorf("exit code %d, want -1 for a killed program", res.ExitCode)
			}
			pids := viptest.TreePIDFiles(dir)
			if tt.cmdExe {
				pids = append(pids, filepath.Join(dir, "ppid.0"))
			}
			for _, f := range pids {
				viptest.WaitGone(t, f, 5*time.Second)
			}
		})
	}
}
