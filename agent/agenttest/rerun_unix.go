//go:build unix

package agenttest

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

// Nobody is the user a test runs as when file permissions must bind it:
// they do not bind root, which CI is.
const Nobody = 65534

// childEnv marks the run Rerun starts.
const childEnv = "VIPAGENT_TEST_CHILD"

// Rerun runs the calling test again in a child process of the test binary
// that runs only that test, and fails t when the child fails or does not
// run and pass it; it returns true, and the caller returns. In the child
// it returns false, and the caller goes on. With asNobody the child runs
// as user Nobody when this process is root, and when it is not root no
// child is needed: Rerun returns false at once. A child that cannot be
// started skips the test, except when CI=true, where it fails.
func Rerun(t *testing.T, asNobody bool) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		if asNobody && os.Geteuid() == 0 {
			t.Fatal("still root in the child run as nobody")
		}
		return false
	}
	if asNobody && os.Geteuid() != 0 {
		return false
	}
	bin := os.Args[0]
	var cred *syscall.Credential
	if asNobody {
		// The test binary sits in a directory only root may enter: copy it.
		dir, err := os.MkdirTemp("", "vipagent-nobody-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		bin = filepath.Join(dir, filepath.Base(os.Args[0]))
		if err := copyExecutable(os.Args[0], bin); err != nil {
			t.Fatal(err)
		}
		cred = &syscall.Credential{Uid: Nobody, Gid: Nobody}
	}
	var pattern []string
	for _, part := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command(bin, "-test.run="+strings.Join(pattern, "/"), "-test.count=1", "-test.v")
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name(), "TMPDIR="+os.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err != nil && !errors.As(err, &exit):
		Require(t, "a child process of the test binary", err)
	case err != nil:
		t.Fatalf("in the child process: %v\n%s", err, out)
	case !strings.Contains(string(out), "--- PASS: "+t.Name()):
		t.Fatalf("in the child process, the test did not run and pass:\n%s", out)
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
