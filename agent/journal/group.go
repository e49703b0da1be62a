package journal

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/vipagent/vipagent/reactions"
)

// Group commit. bbolt's own DB.Batch waits up to 10 ms for company before it
// commits, which would put 10 ms into every lone alarm. Here one goroutine
// commits whatever is queued right away; while that commit (and its fsync)
// runs, new writes queue up and go together in the next one. A lone write
// pays one commit; a storm shares them.

type commitReq struct {
	fn   func(*bolt.Tx) error
	errc chan error
}

// maxGroup bounds how many writes share one transaction.
const maxGroup = 256

var errClosed = fmt.Errorf("%w: journal closed", reactions.ErrUnavailable)

// group runs fn in a write transaction shared with other queued writes and
// returns once that transaction is durably committed.
func (j *Journal) group(fn func(*bolt.Tx) error) error { return <-j.enqueue(fn) }

// enqueue queues fn for the next commit; the channel yields its outcome.
// Writes commit in the order they were queued.
func (j *Journal) enqueue(fn func(*bolt.Tx) error) (errc chan error) {
	errc = make(chan error, 1)
	defer func() {
		// Sending on the queue after Close panics; report it as closed.
		if recover() != nil {
			errc <- errClosed
		}
	}()
	j.commits <- &commitReq{fn: fn, errc: errc}
	return errc
}

func (j *Journal) committer() {
	defer close(j.done)
	for first := range j.commits {
		reqs := []*commitReq{first}
	fill:
		for len(reqs) < maxGroup {
			select {
			case r, ok := <-j.commits:
				if !ok {
					break fill
				}
				reqs = append(reqs, r)
			default:
				break fill
			}
		}
		j.commitGroup(reqs)
	}
}

// fnError marks an error returned by one request's function, so that the
// group can be retried without it.
type fnError struct {
	i   int
	err error
}

func (e *fnError) Error() string { return e.err.Error() }

func (j *Journal) commitGroup(reqs []*commitReq) {
	j.reopen()
	j.wmu.Lock()
	defer j.wmu.Unlock()
	j.dbMu.RLock()
	defer j.dbMu.RUnlock()
	if j.db == nil {
		j.noteCommit(j.lost)
		for _, r := range reqs {
			r.errc <- j.lost
		}
		return
	}
	for len(reqs) > 0 {
		var size int64
		err := guard(j.path, "commit", func() error {
			return j.db.Update(func(tx *bolt.Tx) error {
				for i, r := range reqs {
					if err := r.fn(tx); err != nil {
						return &fnError{i: i, err: err}
					}
				}
				size = tx.Size()
				return nil
			})
		})
		var fe *fnError
		if errors.As(err, &fe) {
			// One request failed: answer it, and commit the others
			// without it (their functions run again on a fresh tx).
			reqs[fe.i].errc <- fe.err
			reqs = append(reqs[:fe.i:fe.i], reqs[fe.i+1:]...)
			continue
		}
		j.noteCommit(err)
		if err == nil {
			j.budget.grew(size)
		}
		for _, r := range reqs {
			r.errc <- err
		}
		return
	}
}
