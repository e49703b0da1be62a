package forensic

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/vipagent/vipagent/agent/journal"
)

// Recovery describes how OpenOrRecover replaced a damaged journal.
type Recovery struct {
	// DamagedPath is where the damaged file was moved, kept for a look
	// or for salvaging again by hand.
	DamagedPath string `json:"damaged_path"`
	// Reason is the damage found: one line, naming the file.
	Reason string `json:"reason"`
	// Stats counts what was copied into the new journal and what was lost.
	Stats SalvageStats `json:"stats"`
	// SalvageError says why nothing at all could be salvaged, in which case
	// the new journal starts empty.
	SalvageError string    `json:"salvage_error,omitempty"`
	At           time.Time `json:"at"`
}

// String is a one-line summary for logs and reports.
func (r *Recovery) String() string {
	s := fmt.Sprintf("%s; moved to %s; salvaged %d events (%d lost, %d unfinished to resume), %d reports (%d lost, %d pending), %d idempotency keys (%d lost), %d last actions (%d lost)",
		r.Reason, r.DamagedPath, r.Stats.Events.Copied, r.Stats.Events.Lost, r.Stats.Unfinished,
		r.Stats.Reports.Copied, r.Stats.Reports.Lost, r.Stats.PendingReports,
		r.Stats.Keys.Copied, r.Stats.Keys.Lost, r.Stats.LastActions.Copied, r.Stats.LastActions.Lost)
	if r.Stats.Settled > 0 {
		s += fmt.Sprintf(", %d events found unfinished settled from their reports (not run again)", r.Stats.Settled)
	}
	if r.Stats.UnreadablePages > 0 {
		s += fmt.Sprintf(", %d unreadable pages", r.Stats.UnreadablePages)
	}
	if f := r.Stats.SignatureFloor; f != nil {
		s += fmt.Sprintf("; the anti-replay memory may be incomplete: requests signed before %s are refused", f.Format(time.RFC3339))
	}
	if r.SalvageError != "" {
		s += "; salvage failed, started empty: " + r.SalvageError
	}
	return s
}

// OpenOrRecover opens the journal at path like Open. If, and only if, the
// file is damaged (errors.Is(err, journal.ErrDamaged)), it moves the file
// aside as path.damaged-<UTC time>, salvages what it can into a new
// journal at path (see Salvage), opens that and returns what it did in a
// non-nil Recovery. Salvaged events that had not finished come back from
// Unfinished, so the engine resumes them as after a crash.
//
// Any other error (journal.ErrLocked, permissions, a read-only or full
// disk, a directory in the way) is returned as from Open, with nothing
// moved. A damaged journal that cannot be moved aside or replaced (a
// read-only directory, a full disk) gives an error that matches
// journal.ErrDamaged too; when the fresh journal cannot be opened, the
// damaged file is put back so that the next start tries again. On any
// error the caller must go on without a journal (see
// journal.AppendUnjournaled), never refuse a failover for it.
func OpenOrRecover(path string, o journal.Options) (*journal.Journal, *Recovery, error) {
	for range 2 {
		seen, _ := os.Stat(path)
		j, err := Open(path, o)
		if err == nil || !errors.Is(err, journal.ErrDamaged) {
			return j, nil, err
		}
		// Another process starting at the same time may have recovered
		// the file already: then open what it made.
		if now, _ := os.Stat(path); seen != nil && now != nil && os.SameFile(seen, now) {
			return recoverDamaged(path, o, err)
		}
	}
	return nil, nil, fmt.Errorf("open journal %s: replaced while being opened", path)
}

// recoverDamaged moves the damaged journal aside, salvages it and opens
// the result.
func recoverDamaged(path string, o journal.Options, damage error) (*journal.Journal, *Recovery, error) {
	var err error
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	rec := &Recovery{Reason: damage.Error(), At: now().UTC()}
	rec.DamagedPath, err = moveAside(path, rec.At)
	if err != nil {
		return nil, nil, fmt.Errorf("%w; moving it aside failed: %w", damage, err)
	}
	// Open found the damage holding the file's lock: it is ours.
	rec.Stats, err = Salvage(rec.DamagedPath, path, SalvageOptions{LockTimeout: o.LockTimeout, Now: now, Owned: true})
	if err != nil {
		rec.SalvageError = err.Error()
	}
	j, err := Open(path, o)
	if err != nil {
		if _, statErr := os.Lstat(path); errors.Is(statErr, os.ErrNotExist) {
			if rerr := os.Rename(rec.DamagedPath, path); rerr != nil {
				err = errors.Join(err, fmt.Errorf("put back %s: %w", rec.DamagedPath, rerr))
			}
		}
		return nil, nil, fmt.Errorf("%w; opening a new journal failed: %w", damage, err)
	}
	return j, rec, nil
}

// moveAside renames path to path.damaged-<time>, with a counter when a
// file of that name exists already.
func moveAside(path string, at time.Time) (string, error) {
	base := path + ".damaged-" + at.Format("20060102T150405Z")
	for i := 1; i < 100; i++ {
		to := base
		if i > 1 {
			to += "-" + strconv.Itoa(i)
		}
		if _, err := os.Lstat(to); err == nil {
			continue
		}
		if err := os.Rename(path, to); err != nil {
			return "", err
		}
		syncDir(filepath.Dir(path))
		return to, nil
	}
	return "", fmt.Errorf("too many damaged journals named %s*", base)
}

// syncDir makes a rename durable; it is best effort (not possible on
// every system).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
