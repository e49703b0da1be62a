package command

import (
	"context"
	"errors"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/reactions"
)

// TestRunKillsProcessGroup runs a script that forks a grandchild and waits
// for it: at the deadline the whole group must go, and Run return at once.
func TestRunKillsProcessGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild.pid")
	script := filepath.Join(dir, "hang.sh")
	body := "#!/bin/sh\nsleep 1000 &\necho $! > \"$1\"\nwait\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}

	const deadline = 300 * time.Millisecond
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	res, err := Run(ctx, []string{script, pidFile}, Options{})
	elapsed := time.Since(start)

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want DeadlineExceeded", err)
	}
	var ee *reactions.ExecError
	if !errors.As(err, &ee) || ee.Argv[0] != script {
		t.Errorf("Run = %v, want an ExecError for %s", err, script)
	}
	if res.ExitCode != -1 {
		t.Errorf("exit code %d, want -1 for a killed program", res.ExitCode)
	}
	// Returning at the deadline, not when the program would have ended
	// (sleep 1000): the bound is generous so that a loaded machine is no
	// failure, and far below the program's own time.
	if elapsed < deadline || elapsed > deadline+10*time.Second {
		t.Errorf("Run returned after %v, want at the %v deadline", elapsed, deadline)
	}

	// SIGKILL is delivered at once; give the kernel a moment to finish the exit.
	viptest.WaitGone(t, pidFile, time.Second)
}

func TestRunPinsCLocale(t *testing.T) {
	res, err := Run(context.Background(), []string{"/bin/sh", "-c", "echo $LC_ALL $LANG $EXTRA"}, Options{Env: []string{"LC_ALL=de_DE.UTF-8", "EXTRA=x"}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Extra variables come last and so win: a caller may override the
	// locale on purpose, the inherited environment may not.
	if got, want := strings.TrimSpace(res.Output), "de_DE.UTF-8 C x"; got != want {
		t.Errorf("environment = %q, want %q", got, want)
	}
	t.Setenv("LC_ALL", "fr_FR.UTF-8")
	res, err = Run(context.Background(), []string{"/bin/sh", "-c", "echo $LC_ALL"}, Options{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := strings.TrimSpace(res.Output); got != "C" {
		t.Errorf("LC_ALL = %q, want C over the inherited fr_FR.UTF-8", got)
	}
}
