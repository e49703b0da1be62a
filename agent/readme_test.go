package agent_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/config"
)

// readmeBlocks returns the fenced blocks of README.md whose info string is
// lang, in order.
func readmeBlocks(t *testing.T, lang string) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && line == "```"+lang:
			cur = &strings.Builder{}
		case cur != nil && line == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	return blocks
}

// TestReadmeConfigsAreValid parses and validates every YAML block of the
// README, the two-node configurations included, as `config check` would
// (the files they name are the site's, so they are not read here).
func TestReadmeConfigsAreValid(t *testing.T) {
	blocks := readmeBlocks(t, "yaml")
	if len(blocks) < 2 {
		t.Fatalf("README has %d yaml blocks, want the two-node Linux and Windows configurations", len(blocks))
	}
	for i, y := range blocks {
		cfg, err := config.Parse([]byte(y))
		if err == nil {
			err = cfg.Validate(func(string) string { return "" })
		}
		if err != nil {
			t.Errorf("README yaml block %d: %v\n%s", i, err, y)
		}
	}
}

// TestReadmeTour runs the tour block of the README as written, with the
// binary the tests build standing in for its `go build` line, in a fresh
// directory: as this user, and as an ordinary user too when this is root.
func TestReadmeTour(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the tour is a POSIX shell session; windows runs the end-to-end tests instead")
	}
	bin := binary
	var tour string
	for _, b := range readmeBlocks(t, "sh") {
		if strings.Contains(b, "./vipagent serve &") {
			tour = b
		}
	}
	if tour == "" {
		t.Fatal("README has no tour block (a sh block with ./vipagent serve &)")
	}
	var script strings.Builder
	script.WriteString("set -eu\n")
	for _, line := range strings.Split(tour, "\n") {
		if strings.HasPrefix(line, "go build ") {
			continue // the binary is built by the test
		}
		script.WriteString(line + "\n")
		if strings.HasPrefix(line, "./vipagent serve &") {
			// The tour's reader waits a moment; the test waits for the
			// agent to answer, bounded.
			script.WriteString("for i in $(seq 100); do ./vipagent vip status >/dev/null 2>&1 && break; sleep 0.05; done\n")
		}
	}
	script.WriteString("wait\n")
	run := func(t *testing.T, asUser []string) {
		// Not t.TempDir: its parent is private to this user, and the
		// ordinary user must reach the directory.
		dir, err := os.MkdirTemp("", "vipagent-tour-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, bin, filepath.Join(dir, "vipagent"), 0o755)
		home := filepath.Join(dir, "home")
		if err := os.Mkdir(home, 0o755); err != nil {
			t.Fatal(err)
		}
		argv := append(asUser, "bash", "-c", script.String())
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin", "HOME=" + home, "LC_ALL=C"}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if len(asUser) > 0 {
			if err := exec.Command("chown", "-R", "65534:65534", home, dir).Run(); err != nil {
				t.Fatal(err)
			}
		}
		if err := cmd.Run(); err != nil {
			t.Fatalf("the tour failed: %v\n%s", err, out.String())
		}
		for _, want := range []string{"succeeded", "unchanged", "rm1-stopped"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("the tour's output has no %q:\n%s", want, out.String())
			}
		}
	}
	t.Run("this user", func(t *testing.T) { run(t, nil) })
	t.Run("ordinary user", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("this test runs as an ordinary user already (the subtest above); as root it also runs the tour as nobody")
		}
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Fatal("setpriv (util-linux) is needed to run the tour as an ordinary user")
		}
		run(t, []string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"})
	})
}

// copyFile copies from to to with mode, for tests that need a program or
// file of their own.
func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}
