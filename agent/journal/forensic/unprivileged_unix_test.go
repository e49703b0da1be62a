//go:build unix

package forensic

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// nobody is the user an unprivileged run takes: file permissions bind it.
const nobody = 65534

// runUnprivileged, as root (which file permissions do not bind, as in
// CI), runs the current test again in a copy of the test binary as user
// nobody and fails when that run fails or does not run the test; it
// returns true, and the caller returns. Not root, it returns false and the
// caller goes on itself.
func runUnprivileged(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return false
	}
	if os.Getenv("VIPAGENT_TEST_UNPRIVILEGED") != "" {
		t.Fatal("still root in the unprivileged run")
	}
	// The test binary sits in a directory only root may enter: copy it.
	dir, err := os.MkdirTemp("", "vipagent-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "forensic.test")
	if err := copyExecutable(os.Args[0], bin); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var pattern []string
	for _, part := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command(bin, "-test.run="+strings.Join(pattern, "/"), "-test.count=1", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VIPAGENT_TEST_UNPRIVILEGED=1", "TMPDIR="+os.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err != nil && !errors.As(err, &exit):
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot run the test as user nobody: %v", err)
		}
		t.Skipf("cannot run the test as user nobody (set CI=true to make this a failure): %v", err)
	case err != nil:
		t.Fatalf("as user nobody: %v\n%s", err, out)
	case !strings.Contains(string(out), "--- PASS: "+t.Name()):
		t.Fatalf("as user nobody, the test did not run and pass:\n%s", out)
	}
	return true
}

func copyExecutable(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
