package viptest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// Write writes an executable script named name into dir, with every "$DIR"
// in body replaced by dir, and returns its path.
func Write(t testing.TB, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(body, "$DIR", dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// Calls reads the argv of every run a fake logged to log: one argument per
// line, each run ended by a line "--". A missing log means no run.
func Calls(t testing.TB, log string) [][]string {
	t.Helper()
	f, err := os.Open(log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var calls [][]string
	var cur []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sc.Text() == "--" {
			calls = append(calls, cur)
			cur = nil
			continue
		}
		cur = append(cur, sc.Text())
	}
	return calls
}

// Context is a context that ends after d or with the test.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// WaitGone reads a PID a fake wrote to pidFile and fails the test unless
// that process is gone within the given time (see processGone for what
// "gone" means on each OS).
func WaitGone(t testing.TB, pidFile string, within time.Duration) {
	t.Helper()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("pid file %s: %v", pidFile, err)
	}
	var state string
	agenttest.Eventually(t, within, func() bool {
		var gone bool
		gone, state = processGone(pid)
		return gone
	}, func() string { return fmt.Sprintf("process %d still alive: %s", pid, state) })
}
