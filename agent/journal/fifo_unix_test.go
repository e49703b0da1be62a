//go:build unix

package journal

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Open refuses a FIFO in place of the file at once, with or without a
// Verify: opening one blocks until a writer comes.
func TestOpenRefusesAFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		j, err := Open(path, Options{})
		if err == nil {
			j.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Open: %v, want a not-a-regular-file error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Open on a FIFO still blocked after 5s")
	}
}
