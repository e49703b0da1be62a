package journal

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vipagent/vipagent/reactions"
)

// Report states.
const (
	ReportPending   = "pending"
	ReportDelivered = "delivered"
	ReportRejected  = "rejected"
	// ReportExpired is a report given up after the retry age limit.
	ReportExpired = "expired"
)

// Report is one result on its way to one target.
type Report struct {
	// ID is stable across retries so receivers can de-duplicate.
	ID      string          `json:"id"`
	Seq     uint64          `json:"seq"`
	Target  string          `json:"target"` // report target name, or "callback"
	URL     string          `json:"url"`
	EventID string          `json:"event_id"`
	Body    json.RawMessage `json:"body"`
	State   string          `json:"state"`
	Created time.Time       `json:"created"`
	// Attempts counts delivery tries; NextAttempt is when to try again.
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
	LastStatus  int       `json:"last_status,omitempty"`
	DoneAt      time.Time `json:"done_at,omitzero"`
}

func putReport(tx *bolt.Tx, r *Report, now time.Time) error {
	b := tx.Bucket(bucketOutbox)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	r.Seq = seq
	if r.ID == "" {
		return fmt.Errorf("report for %s has no ID", r.EventID)
	}
	if existing := tx.Bucket(bucketRIDs).Get([]byte(r.ID)); existing != nil {
		// The same report was produced before (a re-run after a crash
		// finished the event again): keep the first.
		return nil
	}
	if r.State == "" {
		r.State = ReportPending
	}
	if r.Created.IsZero() {
		r.Created = now
	}
	if r.NextAttempt.IsZero() {
		r.NextAttempt = now
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := b.Put(u64(seq), v); err != nil {
		return err
	}
	return tx.Bucket(bucketRIDs).Put([]byte(r.ID), u64(seq))
}

// AddReports stores reports outside of Finish (a manual retry, a callback).
func (j *Journal) AddReports(rs []Report) error {
	return j.update(func(tx *bolt.Tx) error {
		for i := range rs {
			if err := putReport(tx, &rs[i], j.now()); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReportFilter narrows Reports.
type ReportFilter struct {
	// State selects reports in that state ("" for all).
	State string
	// Limit bounds how many are returned (0 for all).
	Limit int
	// Due selects pending reports whose NextAttempt is not after it.
	Due time.Time
	// NewestFirst reverses the order.
	NewestFirst bool
}

// Reports returns reports in the order they were produced (newest first
// with NewestFirst). Delivered and rejected reports stay in the outbox
// until pruned; when only pending ones are wanted, a cheap byte check skips
// decoding the others, so a drain costs little however many reports were
// delivered before.
func (j *Journal) Reports(f ReportFilter) ([]Report, error) {
	if !f.Due.IsZero() {
		f.State = ReportPending
	}
	var needle []byte
	if f.State != "" {
		needle = []byte(`"state":"` + f.State + `"`)
	}
	var out []Report
	err := j.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		first, next := c.First, c.Next
		if f.NewestFirst {
			first, next = c.Last, c.Prev
		}
		for k, v := first(); k != nil && (f.Limit <= 0 || len(out) < f.Limit); k, v = next() {
			if needle != nil && !bytes.Contains(v, needle) {
				continue
			}
			var r Report
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if f.State != "" && r.State != f.State {
				continue
			}
			if !f.Due.IsZero() && r.NextAttempt.After(f.Due) {
				continue
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// GetReport returns one report by ID.
func (j *Journal) GetReport(id string) (Report, error) {
	var r Report
	err := j.view(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketRIDs).Get([]byte(id))
		if seq == nil {
			return fmt.Errorf("report %s: %w", id, reactions.ErrNotFound)
		}
		return json.Unmarshal(tx.Bucket(bucketOutbox).Get(seq), &r)
	})
	return r, err
}

// SaveReport rewrites a report after a delivery attempt.
func (j *Journal) SaveReport(r Report) error {
	return j.update(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketRIDs).Get([]byte(r.ID))
		if seq == nil {
			return fmt.Errorf("report %s: %w", r.ID, reactions.ErrNotFound)
		}
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketOutbox).Put(seq, v)
	})
}

// pruneReports deletes delivered, rejected and expired reports finished
// before cutoff or of an event pruned (gone); pending ones are never
// pruned.
func pruneReports(tx *bolt.Tx, cutoff time.Time, gone map[string]bool) error {
	b := tx.Bucket(bucketOutbox)
	var doomed []Report
	if err := b.ForEach(func(_, v []byte) error {
		var r Report
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if r.State != ReportPending && (r.DoneAt.Before(cutoff) || gone[r.EventID]) {
			doomed = append(doomed, r)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, r := range doomed {
		if err := b.Delete(u64(r.Seq)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketRIDs).Delete([]byte(r.ID)); err != nil {
			return err
		}
	}
	return nil
}

// ReportPage is one page of the outbox's reports, newest first: up to
// limit in state (any when ""), from where an earlier page's next
// stopped. It looks at no more than MaxScan reports, matching the state on
// the raw bytes first; next is "" when the listing is complete.
func (j *Journal) ReportPage(state string, limit int, cursor string) (rs []Report, next string, err error) {
	var from uint64
	if cursor != "" {
		n, err := strconv.ParseUint(cursor, 10, 64)
		if err != nil || n == 0 {
			return nil, "", reactions.Invalid("cursor: %q is not a cursor of an earlier page", shorten(cursor, 40))
		}
		from = n
	}
	var needle []byte
	if state != "" {
		needle = []byte(`"state":"` + state + `"`)
	}
	err = j.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		var k, v []byte
		if from == 0 {
			k, v = c.Last()
		} else if k, _ = c.Seek(u64(from)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for scanned := 0; k != nil; k, v = c.Prev() {
			if len(rs) == limit || scanned == MaxScan {
				next = strconv.FormatUint(binary.BigEndian.Uint64(k)+1, 10)
				return nil
			}
			scanned++
			if needle != nil && !bytes.Contains(v, needle) {
				continue
			}
			var r Report
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if state == "" || r.State == state {
				rs = append(rs, r)
			}
		}
		return nil
	})
	return rs, next, err
}
