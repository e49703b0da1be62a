package journal

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// How damage is kept from crashing the process.
//
// bbolt trusts its file: it maps it and follows page ids without bounds
// checks, so a damaged file makes it panic (often in a goroutine of its own,
// where nothing can recover) or fault on a page past the end of a truncated
// file (SIGBUS, which kills the process). So before bbolt maps an existing
// journal, Open runs Options.Verify, which the forensic package sets to a
// reading of the whole reachable tree through ReadAt (forensic.Open): a
// journal that passes can be used by bbolt without assertions or faults.
//
// Damage that appears later, while the journal is open (another program
// truncating or overwriting the file under the agent), is caught on the
// calling goroutine: every read and every commit runs with page faults
// turned into panics, and panics turned into errors matching ErrDamaged
// (reads) or reactions.ErrUnavailable (writes). The next start then finds
// the damage and forensic.OpenOrRecover recovers.

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

// Problem is one piece of damage found in a journal file.
type Problem struct {
	// Page is the page id, when the problem is in a page.
	Page *uint64 `json:"page,omitempty"`
	// Offset is the byte offset of that page in the file.
	Offset *int64 `json:"offset,omitempty"`
	// Bucket is the journal bucket the page belongs to, when known.
	Bucket string `json:"bucket,omitempty"`
	What   string `json:"what"`
}

func (p Problem) String() string {
	s := p.What
	switch {
	case p.Page != nil && p.Offset != nil:
		s = fmt.Sprintf("page %d (offset %d): %s", *p.Page, *p.Offset, s)
	case p.Page != nil:
		s = fmt.Sprintf("page %d: %s", *p.Page, s)
	}
	if p.Bucket != "" {
		s = "bucket " + p.Bucket + ": " + s
	}
	return s
}

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

// LockShared takes the journal file's shared lock, so that no process
// writes the file until Close, for a reader of the file itself (its
// forensics): bbolt opens it read-only, reading no more than the meta
// pages. ErrLocked means a writer holds it; bbolt's own refusals of the
// file (bolterrors.ErrInvalid, ErrChecksum, ErrVersionMismatch) and a panic
// (a *DamageError) come back as they are, with no lock held. A timeout of
// 0 means 1 s.
func LockShared(path string, timeout time.Duration) (io.Closer, error) {
	if timeout == 0 {
		timeout = time.Second
	}
	var db *bolt.DB
	err := guard(path, "open read-only", func() error {
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
