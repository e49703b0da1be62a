package forensic

import (
	"errors"
	"fmt"
	"os"
	"time"

	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/regularfile"
)

// Open opens the journal at path like journal.Open, reading an existing
// file through first (see inspect), so that damage gives a
// *journal.DamageError, never a crash, with the file left as it was
// (OpenOrRecover moves it aside and salvages it). Every caller that opens
// a journal that may exist goes through here.
func Open(path string, o journal.Options) (*journal.Journal, error) {
	timeout := o.LockTimeout
	o.Verify = func(path string) error { return verify(path, timeout) }
	return journal.Open(path, o)
}

// verify is Open's journal.Options.Verify: nil for a journal that bbolt
// can map safely.
func verify(path string, lockTimeout time.Duration) error {
	in, err := inspect(path, lockTimeout, nil)
	if err != nil {
		return err
	}
	return in.damage(path)
}

// inspection is what inspect learned about a file.
type inspection struct {
	pf       *pageFile
	meta     *meta // the meta page bbolt would use, nil when none is valid
	problems []journal.Problem
	more     int
}

func (in *inspection) damage(path string) error {
	if len(in.problems) == 0 {
		return nil
	}
	return &journal.DamageError{Path: path, Problems: in.problems, More: in.more}
}

// inspect reads the journal at path without writing to it, holding bbolt's
// shared lock so that no writer changes it meanwhile: the sizes, the meta
// pages, every branch and leaf page of the reachable tree and every
// record's shape (journal.CheckRecord), through ReadAt, never the mmap. A
// file that passes can be used by bbolt without assertions or faults. It
// returns an error only when the file cannot be read (journal.ErrLocked
// among them); damage is in the inspection. onRecord, if set, gets every
// record of the tree.
func inspect(path string, lockTimeout time.Duration, onRecord func(bucket string, page uint64, k, v []byte)) (*inspection, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lock, boltErr := journal.LockShared(path, lockTimeout)
	if errors.Is(boltErr, journal.ErrLocked) {
		return nil, fmt.Errorf("open journal %s: %w", path, journal.ErrLocked)
	}
	if lock != nil {
		defer lock.Close()
	}
	pf, prob, err := openPages(f)
	if err != nil {
		return nil, fmt.Errorf("read journal %s: %w", path, err)
	}
	in := &inspection{pf: pf}
	if prob != nil {
		in.problems = []journal.Problem{*prob}
		return in, nil
	}
	in.problems = pf.metaProblems()
	ms := pf.ordered()
	if len(ms) == 0 {
		return in, nil
	}
	in.meta = ms[0]
	in.problems = append(in.problems, pf.truncation(in.meta)...)
	w := newWalker(pf, in.meta)
	w.onRecord = func(bucket string, page uint64, k, v []byte) {
		if err := journal.CheckRecord(bucket, k, v); err != nil {
			w.pageProblem(bucket, page, err)
		}
		if onRecord != nil {
			onRecord(bucket, page, k, v)
		}
	}
	w.root(in.meta)
	in.problems = append(in.problems, w.problems...)
	in.more = w.more
	// bbolt's own consistency check (Tx.Check) is not run: it walks the
	// tree in a goroutine of bbolt's, where damage is an unrecoverable
	// panic (the fuzz target found one). The walk above reads every page
	// itself, under a guard.
	switch {
	case len(in.problems) > 0:
	case lock != nil:
	case errors.Is(boltErr, bolterrors.ErrInvalid) || errors.Is(boltErr, bolterrors.ErrChecksum) || errors.Is(boltErr, bolterrors.ErrVersionMismatch):
		in.problems = []journal.Problem{{What: "bbolt refuses the file: " + boltErr.Error()}}
	case boltErr != nil:
		return nil, fmt.Errorf("open journal %s: %w", path, boltErr)
	}
	return in, nil
}

// openRegular opens the journal file for reading, refusing what is not a
// regular file before opening it: opening a FIFO blocks until a writer
// comes, which would hang the agent (and the emergency commands) forever.
func openRegular(path string) (*os.File, error) {
	f, err := regularfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	return f, nil
}
