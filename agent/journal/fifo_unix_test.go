//go:build unix

package journal

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A journal path that is a FIFO is refused at once by Check, Salvage and
// Open: opening it for reading would block until a writer comes, and
// `journal check` must never hang.
func TestFIFOJournalRefusedAtOnce(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "journal.db")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func() error{
		"Check":   func() error { _, err := Check(fifo); return err },
		"Salvage": func() error { _, err := Salvage(fifo, filepath.Join(dir, "new.db"), SalvageOptions{}); return err },
		"Open":    func() error { _, err := Open(fifo, Options{}); return err },
	} {
		done := make(chan error, 1)
		go func() { done <- f() }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: err = %v, want not a regular file", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s hangs on a FIFO", name)
		}
	}
}
