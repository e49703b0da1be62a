//go:build unix

package genesys

import (
	"bytes"
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

// A file that cannot be written leaves no other file, nor a temporary one,
// behind: in a read-only directory nothing can be created at all, and when
// the last file is over the process's file size limit the two written
// before it are removed. Root bypasses directory permissions, so that case
// runs as user nobody; the size limit binds root too.
func TestWriteFailingFileWritesNothing(t *testing.T) {
	files := map[string][]byte{"GUIDE.md": []byte("guide\n"), "INIT.bat": []byte("x\r\n"), "z.json": bytes.Repeat([]byte(" "), 64<<10)}
	t.Run("read-only directory", func(t *testing.T) {
		if rerun(t, true) {
			return
		}
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		if err := Write(dir, files); err == nil {
			t.Error("Write into a read-only directory: no error")
		}
		if got := dirNames(t, dir); len(got) != 0 {
			t.Errorf("read-only directory holds %q", got)
		}
	})
	t.Run("last file over the size limit", func(t *testing.T) {
		if rerun(t, false) {
			return
		}
		// This process runs only this test: the limit binds nothing else.
		// Go ignores SIGXFSZ, so the write fails with EFBIG instead.
		limit := syscall.Rlimit{Cur: 32 << 10, Max: 32 << 10}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		err := Write(dir, files)
		if !errors.Is(err, syscall.EFBIG) {
			t.Errorf("Write of a file over the size limit: %v, want EFBIG", err)
		}
		if got := dirNames(t, dir); len(got) != 0 {
			t.Errorf("after the failed write the directory holds %q", got)
		}
	})
}

// childEnv marks the run that rerun starts.
const childEnv = "VIPAGENT_GENESYS_TEST_CHILD"

// nobody is the user file permissions bind when this test runs as root.
const nobody = 65534

// rerun runs the current test again in a child process that runs only it,
// as user nobody when asNobody and this is root, and fails when that run
// fails or does not run the test; it returns true, and the caller returns.
// In the child it returns false, and the caller goes on. A child that
// cannot be started skips the test, except when CI=true, where it fails.
func rerun(t *testing.T, asNobody bool) bool {
	t.Helper()
	if os.Getenv(childEnv) != "" {
		if asNobody && os.Geteuid() == 0 {
			t.Fatal("still root in the child run as nobody")
		}
		return false
	}
	bin := os.Args[0]
	var cred *syscall.Credential
	if asNobody && os.Geteuid() == 0 {
		// The test binary sits in a directory only root may enter: copy it.
		dir, err := os.MkdirTemp("", "vipagent-genesys-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		bin = filepath.Join(dir, "genesys.test")
		if err := copyExecutable(os.Args[0], bin); err != nil {
			t.Fatal(err)
		}
		cred = &syscall.Credential{Uid: nobody, Gid: nobody}
	}
	var pattern []string
	for _, part := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command(bin, "-test.run="+strings.Join(pattern, "/"), "-test.count=1", "-test.v")
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), childEnv+"=1", "TMPDIR="+os.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err != nil && !errors.As(err, &exit):
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot run the test in a child process: %v", err)
		}
		t.Skipf("cannot run the test in a child process (set CI=true to make this a failure): %v", err)
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
