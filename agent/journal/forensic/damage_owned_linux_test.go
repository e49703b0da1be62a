//go:build linux

package forensic

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/journal"
)

// When bbolt gives up half-way through opening a damaged file (a panic the
// inspection did not foresee), the mapping it leaves keeps the file's lock
// in this very process. The recovery that follows must not wait for that
// lock, or it salvages nothing and starts empty. Here the leftover lock is
// an exclusive flock on another descriptor of the file.
func TestRecoveryDoesNotWaitForItsOwnLock(t *testing.T) {
	f := writeFixture(t, t.TempDir(), fixtureEvents)
	held, err := os.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := syscall.Flock(int(held.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("flock: %v", err)
	}
	damage := &journal.DamageError{Path: f.path, Problems: []journal.Problem{{What: "open: freepages: a panic in bbolt"}}}
	start := time.Now()
	j, rec, err := recoverDamaged(f.path, journal.Options{Node: "rm1", Now: recoveryClock, LockTimeout: 5 * time.Second}, damage)
	if err != nil {
		t.Fatalf("recoverDamaged: %v", err)
	}
	defer j.Close()
	if rec.SalvageError != "" || rec.Stats.Events.Copied != fixtureEvents {
		t.Errorf("recovery %+v, want all %d events salvaged", rec, fixtureEvents)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %s: it waited for the lock", took)
	}
	// A salvage by hand of a file another process holds still refuses.
	if _, err := Salvage(rec.DamagedPath, t.TempDir()+"/by-hand.db", SalvageOptions{LockTimeout: 50 * time.Millisecond}); !errors.Is(err, journal.ErrLocked) {
		t.Errorf("Salvage by hand of a held file: %v, want ErrLocked", err)
	}
}
