package journal

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/vipagent/vipagent/agent/regularfile"
)

// How damage is kept from crashing the process.
//
// bbolt trusts its file: it maps it and follows page ids without bounds
// checks, so a damaged file makes it panic (often in a goroutine of its own,
// where nothing can recover) or fault on a page past the end of a truncated
// file (SIGBUS, which kills the process). So before bbolt maps an existing
// journal for writing, Open reads the whole reachable tree itself through
// ReadAt (sizes, meta pages, every branch and leaf page, every record's
// shape), under bbolt's shared lock, and only then runs bbolt's own
// consistency check and opens the file. A journal that passes can be used by
// bbolt without assertions or faults.
//
// Damage that appears later, while the journal is open (another program
// truncating or overwriting the file under the agent), is caught on the
// calling goroutine: every read and every commit runs with page faults
// turned into panics, and panics turned into errors matching ErrDamaged
// (reads) or reactions.ErrUnavailable (writes). The next start then finds
// the damage and OpenOrRecover recovers.

// ErrDamaged matches errors about a journal file whose contents are
// damaged (as opposed to a file that cannot be reached: permissions, a
// read-only disk, a lock held by another process). Only those call for
// moving the file aside and salvaging it.
var ErrDamaged = errors.New("journal is damaged")

// DamageError says what is wrong with a journal file, and where.
type DamageError struct {
	Path     string
	Problems []Problem
	// More counts problems not listed.
	More int
}

func (e *DamageError) Error() string {
	what := "unknown damage"
	if len(e.Problems) > 0 {
		what = e.Problems[0].String()
	}
	s := fmt.Sprintf("journal %s is damaged: %s", e.Path, what)
	if n := len(e.Problems) - 1 + e.More; n > 0 {
		s += fmt.Sprintf(" (and %d more problems)", n)
	}
	return s
}

// Is makes errors.Is(err, ErrDamaged) true.
func (e *DamageError) Is(target error) bool { return target == ErrDamaged }

// guard runs fn with page faults turned into panics, and panics into a
// *DamageError for path. It only protects the goroutine it runs on.
func guard(path, what string, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = &DamageError{Path: path, Problems: []Problem{{What: what + ": " + describePanic(r)}}}
		}
	}()
	return fn()
}

func describePanic(r any) string {
	if f, ok := r.(interface{ Addr() uintptr }); ok {
		return fmt.Sprintf("page fault at %#x reading the mapped file (truncated or unreadable)", f.Addr())
	}
	return strings.TrimPrefix(fmt.Sprint(r), "assertion failed: ")
}

// inspection is what inspect learned about a file.
type inspection struct {
	pf       *pageFile
	meta     *meta // the meta page bbolt would use, nil when none is valid
	problems []Problem
	more     int
}

func (in *inspection) damage(path string) error {
	if len(in.problems) == 0 {
		return nil
	}
	return &DamageError{Path: path, Problems: in.problems, More: in.more}
}

// inspect reads the journal at path without writing to it, holding bbolt's
// shared lock so that no writer changes it meanwhile. It returns an error
// only when the file cannot be read (ErrLocked among them); damage is in
// the inspection. onRecord, if set, gets every record of the tree.
func inspect(path string, lockTimeout time.Duration, onRecord func(bucket string, page uint64, k, v []byte)) (*inspection, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	db, boltErr := lockShared(path, lockTimeout)
	if errors.Is(boltErr, ErrLocked) {
		return nil, fmt.Errorf("open journal %s: %w", path, ErrLocked)
	}
	if db != nil {
		defer db.Close()
	}
	pf, prob, err := openPages(f)
	if err != nil {
		return nil, fmt.Errorf("read journal %s: %w", path, err)
	}
	in := &inspection{pf: pf}
	if prob != nil {
		in.problems = []Problem{*prob}
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
		if err := checkRecord(bucket, k, v); err != nil {
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
	case db != nil:
	case errors.Is(boltErr, bolterrors.ErrInvalid) || errors.Is(boltErr, bolterrors.ErrChecksum) || errors.Is(boltErr, bolterrors.ErrVersionMismatch):
		in.problems = []Problem{{What: "bbolt refuses the file: " + boltErr.Error()}}
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

// lockShared opens path read-only with bbolt, which takes its shared lock
// (so no writer is at work) without touching more than the meta pages.
// ErrLocked means a writer holds the file.
func lockShared(path string, timeout time.Duration) (db *bolt.DB, err error) {
	if timeout == 0 {
		timeout = time.Second
	}
	err = guard(path, "open read-only", func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
		return err
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, err
	}
	return db, nil
}
