//go:build unix

package genesys

import (
	"bytes"
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// A file that cannot be written leaves no other file, nor a temporary one,
// behind: in a read-only directory nothing can be created at all, and when
// the last file is over the process's file size limit the two written
// before it are removed. Root bypasses directory permissions, so that case
// runs as user nobody; the size limit binds root too.
func TestWriteFailingFileWritesNothing(t *testing.T) {
	files := map[string][]byte{"GUIDE.md": []byte("guide\n"), "INIT.bat": []byte("x\r\n"), "z.json": bytes.Repeat([]byte(" "), 64<<10)}
	t.Run("read-only directory", func(t *testing.T) {
		if agenttest.Rerun(t, true) {
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
		if agenttest.Rerun(t, false) {
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
