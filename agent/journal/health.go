package journal

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Readiness follows the commits: a commit that fails (a full disk, a file
// system gone read-only) makes Health fail with its reason until a commit
// works again. Health also writes a probe the size of a large event now
// and then, so that a journal that could not take the next alarm is seen
// before an alarm is refused, and so that it turns healthy again by itself
// once space is back, without waiting for an alarm.

const (
	// probeBytes is about what a large event takes in the file.
	probeBytes = 16 << 10
	// probeEvery spaces the probes of a healthy journal; probeRetry those
	// of a failing one.
	probeEvery = 30 * time.Second
	probeRetry = time.Second
)

var probeValue = bytes.Repeat([]byte{'p'}, probeBytes)

type health struct {
	mu      sync.Mutex
	err     error     // the last commit's failure, nil when it worked
	since   time.Time // when commits began to fail
	probed  time.Time
	probing sync.Mutex
}

// noteCommit records the outcome of a commit.
func (j *Journal) noteCommit(err error) {
	h := &j.health
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err == nil:
		h.err = nil
	case h.err == nil:
		h.err, h.since = err, j.now()
	default:
		h.err = err
	}
}

// Health is nil while the journal can commit, else an error saying since
// when it cannot and why. It may write a probe (see above).
func (j *Journal) Health() error {
	h := &j.health
	h.mu.Lock()
	failing, last := h.err != nil, h.probed
	h.mu.Unlock()
	gap := probeEvery
	if failing {
		gap = probeRetry
	}
	if j.now().Sub(last) >= gap && h.probing.TryLock() {
		h.mu.Lock()
		h.probed = j.now()
		h.mu.Unlock()
		j.probe()
		h.probing.Unlock()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return fmt.Errorf("journal cannot commit since %s: %w", h.since.UTC().Format(time.RFC3339), h.err)
	}
	if p := j.budget.lastErr.Load(); p != nil {
		return fmt.Errorf("journal over its budget of %d bytes: %w", j.budget.max, *p)
	}
	return nil
}

// probe commits a large value and deletes it again, in two commits: the
// first needs the space a large event needs.
func (j *Journal) probe() {
	key := []byte("probe")
	if err := j.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketHealth).Put(key, probeValue) }); err != nil {
		return
	}
	_ = j.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketHealth).Delete(key) })
}
