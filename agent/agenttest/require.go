package agenttest

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

// Require skips t when missing is not nil, saying what the test needs and
// why it is not there, except under CI=true: there a test that skipped
// would pass for the wrong reason, so it fails instead. A nil missing
// returns at once.
func Require(t testing.TB, what string, missing error) {
	t.Helper()
	if missing == nil {
		return
	}
	msg := fmt.Sprintf("needs %s: %v", what, missing)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg + " (set CI=true to make this a failure)")
}

// RequireProgram returns the path of program, a program of the Debian
// package debianPackage, or Requires it naming that package. On Windows it
// skips, also under CI: Debian's programs are Linux programs, and the
// Linux run of the same test runs them.
func RequireProgram(t testing.TB, program, debianPackage string) string {
	t.Helper()
	return lookProgram(t, program, debianPackage)
}

// RequireBinary returns path when Build found a vipagent binary. Without
// one (ErrNoBinary) it Requires one; any other error of Build (a build
// that failed) fails the test everywhere.
func RequireBinary(t testing.TB, path string, err error) string {
	t.Helper()
	if err != nil && !errors.Is(err, ErrNoBinary) {
		t.Fatal(err)
	}
	Require(t, "the vipagent binary", err)
	return path
}

// RequireRoot Requires that the test runs as root, for why (for example
// "to mount a small tmpfs"). CI runs as root, so there it fails instead
// of skipping.
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	var missing error
	if os.Geteuid() != 0 {
		missing = fmt.Errorf("running as uid %d", os.Geteuid())
	}
	Require(t, "root "+why, missing)
}
