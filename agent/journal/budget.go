package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The byte budget (Options.MaxBytes). bbolt reuses the pages freed by
// deletions but never gives them back to the file system, so the budget is
// kept in two moves: when the live data (the file's pages minus its free
// ones) passes three quarters of the budget, the oldest finished events
// without pending reports are pruned until it is back under half; when a
// quarter of the file is free pages, the file is compacted into a new one
// that replaces it. The commits notice the growth (a commit's size after
// it), and a goroutine of the journal trims, so that a flood of alarms
// between two scheduled prunes cannot fill the disk.

const (
	// trimGap is the least time between two trims started by growth.
	trimGap = time.Second
	// compactTxBytes bounds one transaction of a compaction's copy.
	compactTxBytes = 4 << 20
)

type budget struct {
	max     int64
	kick    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	// lastErr is the last trim's failure, for Health's reason.
	lastErr atomic.Pointer[error]
}

func (b *budget) init(max int64) {
	b.max = max
	b.kick = make(chan struct{}, 1)
	b.stop = make(chan struct{})
	b.stopped = make(chan struct{})
}

// grew is told each commit's data size; past three quarters of the budget
// it wakes the trimmer.
func (b *budget) grew(size int64) {
	if b.max > 0 && size > b.max/4*3 {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

func (j *Journal) trimmer() {
	defer close(j.budget.stopped)
	for {
		select {
		case <-j.budget.stop:
			return
		case <-j.budget.kick:
		}
		_, err := j.Trim()
		if err != nil {
			j.budget.lastErr.Store(&err)
		} else {
			j.budget.lastErr.Store(nil)
		}
		select {
		case <-j.budget.stop:
			return
		case <-time.After(trimGap):
		}
	}
}

// Space is how the journal's file is used.
type Space struct {
	// File is the size of the data file; Free the bytes of its pages
	// that bbolt will reuse; Live the rest.
	File, Free, Live int64
	// Events counts the journaled events.
	Events int
	// Max is the budget, 0 when there is none.
	Max int64
}

// Space measures the file.
func (j *Journal) Space() (Space, error) {
	sp := Space{Max: j.budget.max}
	err := j.view(func(tx *bolt.Tx) error {
		st := tx.DB().Stats()
		sp.File = tx.Size()
		sp.Free = int64(st.FreePageN+st.PendingPageN) * int64(tx.DB().Info().PageSize)
		sp.Events = tx.Bucket(bucketEvents).Stats().KeyN
		return nil
	})
	sp.Live = sp.File - sp.Free
	return sp, err
}

// Trimmed says what a Trim did.
type Trimmed struct {
	// Pruned counts the events pruned to stay within the budget.
	Pruned int
	// Before and After are the file's sizes around a compaction; both
	// zero when there was none.
	Before, After int64
}

// Trim keeps the journal within its budget: it prunes the oldest finished
// events while the live data is over three quarters of the budget, then
// compacts the file when a quarter of it is free. With no budget it does
// nothing.
func (j *Journal) Trim() (Trimmed, error) {
	var t Trimmed
	if j.budget.max <= 0 {
		return t, nil
	}
	sp, err := j.Space()
	if err != nil {
		return t, err
	}
	if sp.Live > j.budget.max/4*3 && sp.Events > 0 {
		// Events are of similar sizes; keeping this share of them brings
		// the live data to about half the budget.
		keep := int(int64(sp.Events) * (j.budget.max / 2) / sp.Live)
		if t.Pruned, err = j.prune(time.Time{}, keep); err != nil {
			return t, fmt.Errorf("journal trim to %d bytes: %w", j.budget.max, err)
		}
		if sp, err = j.Space(); err != nil {
			return t, err
		}
	}
	if sp.Free >= sp.File/4 && sp.Free >= j.budget.max/8 {
		t.Before, t.After, err = j.Compact()
	}
	return t, err
}

// Compact copies the live data into a new file that replaces the
// journal's, returning the free pages to the file system, and returns the
// file's sizes before and after. Writers wait while it copies (about a
// second per 100 MB of live data); readers go on with the old file.
//
// Where a file can be replaced while open (not Windows), the new file is
// locked before it takes the old one's name, and the old one is let go
// only after, so another process never finds the journal unlocked; one
// that opened the old file by its name finds it replaced once it gets the
// lock, and opens again (see openBolt). On Windows both files are closed
// for the rename, readers wait for it too, and the new file is opened
// after; should that open fail (another process took the lock in the
// instant between), the journal says so (Health, every call) and opens
// the file again at its next use. A crash at any point leaves either the
// old file or the new one, each complete.
func (j *Journal) Compact() (before, after int64, err error) {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	j.reopen()
	j.dbMu.RLock()
	src, lost := j.db, j.lost
	j.dbMu.RUnlock()
	if src == nil {
		return 0, 0, fmt.Errorf("compact journal: %w", lost)
	}
	tmp := j.path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, 0, fmt.Errorf("compact journal: %w", err)
	}
	dst, err := openBolt(tmp, j.lockTimeout)
	if err != nil {
		return 0, 0, fmt.Errorf("compact journal: %w", err)
	}
	fail := func(err error) (int64, int64, error) {
		dst.Close()
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact journal: %w", wrapStorage(err))
	}
	err = guard(j.path, "compact", func() error {
		if err := src.View(func(tx *bolt.Tx) error { before = tx.Size(); return nil }); err != nil {
			return err
		}
		return bolt.Compact(dst, src, compactTxBytes)
	})
	if err != nil {
		return fail(err)
	}
	if err := dst.View(func(tx *bolt.Tx) error { after = tx.Size(); return nil }); err != nil {
		return fail(err)
	}
	if !replaceWhileOpen {
		return before, after, j.swapClosed(src, dst, tmp)
	}
	if err := os.Rename(tmp, j.path); err != nil {
		return fail(err)
	}
	// The rename is durable only once the directory is synced; until
	// then a crash may leave the old file, which is complete too.
	syncDir(filepath.Dir(j.path))
	j.dbMu.Lock()
	j.db = dst
	j.dbMu.Unlock()
	return before, after, src.Close()
}

// swapClosed puts the compacted file tmp (open as dst) in the place of the
// journal's (open as src) where an open file cannot be replaced: with
// readers held off, it closes both, renames and opens the journal's path
// again. The caller holds wmu.
func (j *Journal) swapClosed(src, dst *bolt.DB, tmp string) error {
	j.dbMu.Lock()
	defer j.dbMu.Unlock()
	j.db = nil
	src.Close()
	dst.Close()
	renamed := os.Rename(tmp, j.path)
	if renamed == nil {
		syncDir(filepath.Dir(j.path))
	} else {
		os.Remove(tmp)
	}
	db, err := openBolt(j.path, j.lockTimeout)
	if err != nil {
		j.lost = fmt.Errorf("journal %s: reopen after compaction: %w", j.path, err)
		return j.lost
	}
	j.db, j.lost = db, nil
	if renamed != nil {
		return fmt.Errorf("compact journal: %w", wrapStorage(renamed))
	}
	return nil
}
