package command

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
)

// TestHelperProcess is not a test: the other tests run the test binary
// itself as a child program that behaves as its arguments say.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("COMMAND_TEST_HELPER") != "1" {
		return
	}
	args := os.Args
	for len(args) > 0 && args[0] != "--" {
		args = args[1:]
	}
	if len(args) < 2 {
		os.Exit(2)
	}
	switch args[1] {
	case "fail":
		fmt.Fprint(os.Stdout, "to stdout\n")
		fmt.Fprint(os.Stderr, "to stderr\n")
		os.Exit(3)
	case "ok":
		fmt.Fprint(os.Stdout, "fine\n")
		os.Exit(0)
	}
	os.Exit(2)
}

func helperArgv(mode string) []string {
	return []string{os.Args[0], "-test.run=^TestHelperProcess$", "--", mode}
}

var helperEnv = Options{Env: []string{"COMMAND_TEST_HELPER=1"}}

func TestRunSuccess(t *testing.T) {
	argv := helperArgv("ok")
	got, err := Run(context.Background(), argv, helperEnv)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := reactions.Exec{Argv: argv, ExitCode: 0, Output: "fine\n"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("exec (-want +got):\n%s", diff)
	}
}

func TestRunFailureCarriesExitCodeAndOutput(t *testing.T) {
	argv := helperArgv("fail")
	got, err := Run(context.Background(), argv, helperEnv)
	var ee *reactions.ExecError
	if !errors.As(err, &ee) {
		t.Fatalf("Run = %v, want an ExecError", err)
	}
	want := reactions.Exec{Argv: argv, ExitCode: 3, Output: "to stdout\nto stderr\n"}
	if diff := cmp.Diff(want, ee.Exec); diff != "" {
		t.Errorf("error's exec (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("returned exec (-want +got):\n%s", diff)
	}
	for _, s := range []string{"exited 3", "to stderr", "TestHelperProcess"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

func TestRunRefusesBadArgv(t *testing.T) {
	tests := []struct {
		name string
		argv []string
	}{
		{"nil", nil},
		{"empty", []string{}},
		{"empty program", []string{"", "arg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), tt.argv, Options{})
			var ee *reactions.ExecError
			if !errors.As(err, &ee) {
				t.Fatalf("Run = %v, want an ExecError", err)
			}
			if ee.ExitCode != -1 || !strings.Contains(err.Error(), "empty command") {
				t.Errorf("Run = %v (exit %d), want exit -1 and \"empty command\"", err, ee.ExitCode)
			}
		})
	}
}

func TestRunMissingProgram(t *testing.T) {
	argv := []string{filepath.Join(t.TempDir(), "nonexistent", "program"), "x"}
	_, err := Run(context.Background(), argv, Options{})
	var ee *reactions.ExecError
	if !errors.As(err, &ee) {
		t.Fatalf("Run = %v, want an ExecError", err)
	}
	if diff := cmp.Diff(argv, ee.Argv); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}
	// Linux reports the missing file (ENOENT); Windows' lookup, which
	// tries the PATHEXT extensions, reports exec.ErrNotFound.
	if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("Run = %v, want it to wrap os.ErrNotExist or exec.ErrNotFound", err)
	}
}

func TestRunCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, helperArgv("ok"), helperEnv)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
}
