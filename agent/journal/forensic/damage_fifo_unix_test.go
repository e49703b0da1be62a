//go:build unix

package forensic

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/journal"
)

// A FIFO in place of journal.db (or given to salvage) is refused at once:
// opening one for reading blocks until a writer comes, and nothing would
// ever end that wait, not even SIGTERM.
func TestFIFOInPlaceOfTheJournal(t *testing.T) {
	dir := t.TempDir()
	path := journal.PathIn(dir)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	calls := map[string]func() error{
		"Open": func() error {
			j, err := Open(path, journal.Options{})
			if err == nil {
				j.Close()
			}
			return err
		},
		"OpenOrRecover": func() error {
			j, _, err := OpenOrRecover(path, journal.Options{})
			if err == nil {
				j.Close()
			}
			return err
		},
		"Check": func() error { _, err := Check(path); return err },
		"Salvage": func() error {
			_, err := Salvage(path, filepath.Join(dir, "new.db"), SalvageOptions{})
			return err
		},
	}
	for name, call := range calls {
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			if err == nil || errors.Is(err, journal.ErrDamaged) || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: %v, want a not-a-regular-file error that is not ErrDamaged", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s on a FIFO still blocked after 5s", name)
		}
	}
}
