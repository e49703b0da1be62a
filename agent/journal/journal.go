// Package journal is vipagent's durable memory: every accepted event, every
// result and every pending report, in one bbolt file (FileName in the data
// directory). Reading that file's format without bbolt (the check before
// it is opened, `journal check`, salvage and recovery of a damaged file)
// is package forensic's, which builds on this one.
//
// bbolt was chosen over a pure-Go SQLite because the journal is a handful of
// key/value buckets read by key or in order: bbolt gives ACID transactions
// with an fsync per commit, a file lock that keeps a second process off the
// same data (what `fire --direct` relies on), group commit (DB.Batch) for
// alarm storms, and no SQL layer or schema migrations; it is pure Go and
// small in the binary.
package journal

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/vipagent/vipagent/agent/regularfile"
	"github.com/vipagent/vipagent/reactions"
)

// The journal file's buckets, by name: what a reader of the file itself
// (its forensics) meets; the store's code uses the byte slices below.
const (
	BucketEvents  = "events"  // sequence -> Event JSON
	BucketIDs     = "ids"     // event ID -> sequence
	BucketKeys    = "keys"    // idempotency key (see indexKey) -> event ID
	BucketVIPs    = "vips"    // VIP name -> LastAction JSON
	BucketOutbox  = "outbox"  // sequence -> Report JSON
	BucketReports = "reports" // report ID -> outbox sequence
	BucketIntents = "intents" // VIP name -> latest VIPIntent JSON
)

var (
	bucketEvents = []byte(BucketEvents)
	bucketIDs    = []byte(BucketIDs)
	bucketKeys   = []byte(BucketKeys)
	bucketVIPs   = []byte(BucketVIPs)
	bucketOutbox = []byte(BucketOutbox)
	bucketRIDs   = []byte(BucketReports)
	bucketIntent = []byte(BucketIntents)
	bucketHealth = []byte("health") // the readiness probe's write (see Health)

	allBuckets = [][]byte{bucketEvents, bucketIDs, bucketKeys, bucketVIPs, bucketOutbox, bucketRIDs, bucketIntent, bucketSigs, bucketSigsExpiry, bucketSigFloor, bucketHealth}
)

// ErrLocked is returned by Open when another process holds the journal.
var ErrLocked = errors.New("journal is in use by another vipagent process")

// Options tune Open.
type Options struct {
	// LockTimeout is how long Open waits for another process to let go of
	// the file; 0 means 1 s.
	LockTimeout time.Duration
	// Node names this agent; it prefixes event IDs.
	Node string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxBytes is the file's byte budget (see budget.go); 0 means none.
	MaxBytes int64
	// Verify, when set, reads an existing file before bbolt maps it and
	// says why it must not be: bbolt trusts its file, and a damaged one
	// crashes the process (see damage.go). forensic.Open sets it; a
	// *DamageError from it comes back from Open as it is.
	Verify func(path string) error
}

// Journal is an open journal file.
type Journal struct {
	commits   chan *commitReq
	done      chan struct{}
	closeOnce sync.Once

	// dbMu guards db, which a compaction replaces; wmu keeps writers out
	// while it copies. db is nil when a compaction could not open the
	// new file (see reopen); lost says why.
	dbMu sync.RWMutex
	wmu  sync.Mutex
	db   *bolt.DB
	lost error

	node        string
	now         func() time.Time
	path        string
	lockTimeout time.Duration

	budget budget
	health health
}

// Open opens (creating if needed) the journal at path. An existing file
// must be a regular file, and is read through by o.Verify first, so that
// damage gives an error, never a crash: a *DamageError matching ErrDamaged,
// with the file left as it was (forensic.Open sets Verify, and
// forensic.OpenOrRecover moves a damaged file aside and salvages it).
// ErrLocked means another process holds the file; other errors
// (permissions, a read-only or full disk, a directory in the way) are the
// environment's.
func Open(path string, o Options) (*Journal, error) {
	if o.LockTimeout == 0 {
		o.LockTimeout = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if _, err := os.Lstat(path); err == nil {
		// Opening a FIFO would block until a writer comes: refused
		// before bbolt (or Verify) opens it.
		f, err := regularfile.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open journal: %w", err)
		}
		f.Close()
		if o.Verify != nil {
			if err := o.Verify(path); err != nil {
				return nil, err
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	db, err := openBolt(path, o.LockTimeout)
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open journal %s: %w", path, ErrLocked)
		}
		if errors.Is(err, ErrDamaged) {
			return nil, err
		}
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	err = guard(path, "create buckets", func() error { return db.Update(createBuckets) })
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	j := &Journal{db: db, node: o.Node, now: o.Now, path: path, lockTimeout: o.LockTimeout,
		commits: make(chan *commitReq, 1024), done: make(chan struct{})}
	j.budget.init(o.MaxBytes)
	go j.committer()
	go j.trimmer()
	return j, nil
}

// openBolt opens (creating if needed) a journal file with bbolt, for
// writing. The freelist is rebuilt on open instead of written at every
// commit: less to write and sync per alarm.
func openBolt(path string, lockTimeout time.Duration) (db *bolt.DB, err error) {
	var file *os.File
	err = guard(path, "open", func() error {
		var err error
		// The freelist is rebuilt at open (NoFreelistSync), walking the
		// tree in a goroutine of bbolt's own where a panic cannot be
		// recovered: the verification before this open (Options.Verify,
		// see forensic.Open) checks every invariant that walk relies on
		// (page types and bounds, key order within pages and against
		// their branch keys, bucket headers), so it meets no damage
		// there.
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, NoFreelistSync: true, FreelistType: bolt.FreelistMapType,
			OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
				f, err := os.OpenFile(name, flag, perm)
				file = f
				return f, err
			}})
		return err
	})
	if err != nil && db == nil && file != nil {
		// bbolt gave up (or panicked) after taking the file lock: let go
		// of it, or a salvage of this very file would find it held.
		file.Close()
	}
	if err == nil && replaced(file, path) {
		// A compaction replaced the file between our open and our lock
		// (see Compact): what we hold is the old one, no longer the
		// journal. Open the new one.
		db.Close()
		return openBolt(path, lockTimeout)
	}
	return db, err
}

// replaced reports whether the file at path is no longer f.
func replaced(f *os.File, path string) bool {
	held, err := f.Stat()
	if err != nil {
		return false
	}
	cur, err := os.Stat(path)
	return err == nil && !os.SameFile(held, cur)
}

func createBuckets(tx *bolt.Tx) error {
	for _, b := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}

// view runs a read transaction; damage met on the way (a panic or a page
// fault in bbolt) comes back as a *DamageError instead of killing the
// process.
func (j *Journal) view(fn func(*bolt.Tx) error) error {
	j.reopen()
	j.dbMu.RLock()
	defer j.dbMu.RUnlock()
	if j.db == nil {
		return j.lost
	}
	return guard(j.path, "read", func() error { return j.db.View(fn) })
}

// reopen opens the journal's file again when a compaction let it go and
// could not take it back (see swapClosed): the journal recovers by
// itself, at its next read or commit, once the file can be opened.
func (j *Journal) reopen() {
	j.dbMu.RLock()
	open := j.db != nil
	j.dbMu.RUnlock()
	if open {
		return
	}
	j.dbMu.Lock()
	defer j.dbMu.Unlock()
	if j.db != nil {
		return
	}
	db, err := openBolt(j.path, j.lockTimeout)
	if err != nil {
		j.lost = fmt.Errorf("journal %s: reopen after compaction: %w", j.path, err)
		return
	}
	j.db, j.lost = db, nil
}

// update runs a write transaction, guarded like view. A failure of the
// commit itself (not of fn) is remembered for Health.
func (j *Journal) update(fn func(*bolt.Tx) error) error {
	j.reopen()
	j.wmu.Lock()
	defer j.wmu.Unlock()
	j.dbMu.RLock()
	defer j.dbMu.RUnlock()
	if j.db == nil {
		j.noteCommit(j.lost)
		return j.lost
	}
	var fnErr error
	err := guard(j.path, "commit", func() error {
		return j.db.Update(func(tx *bolt.Tx) error {
			fnErr = fn(tx)
			return fnErr
		})
	})
	if fnErr == nil {
		j.noteCommit(err)
	}
	return err
}

// Close closes the file; everything committed is on disk already.
func (j *Journal) Close() error {
	j.closeOnce.Do(func() {
		close(j.commits)
		close(j.budget.stop)
	})
	<-j.done
	<-j.budget.stopped
	j.dbMu.Lock()
	defer j.dbMu.Unlock()
	if j.db == nil {
		return nil
	}
	return j.db.Close()
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// CheckKey reports whether an idempotency key is acceptable.
func CheckKey(k string) error {
	if len(k) > 200 {
		return reactions.Invalid("id: longer than 200 characters")
	}
	for _, r := range k {
		if !unicode.IsPrint(r) {
			return reactions.Invalid("id: control characters are not allowed")
		}
	}
	return nil
}

// Accept stores a new event durably and returns it with its ID. When the
// event carries an idempotency key already seen in its scope (door and
// sender), nothing is stored and the earlier event comes back with
// duplicate set if the event repeats it (reactions.Event.Repeats); if it
// asks for something else, the error is a reactions.ErrConflict naming the
// earlier event.
func (j *Journal) Accept(ev *reactions.Event) (stored *reactions.Event, duplicate bool, err error) {
	if err := CheckKey(ev.Key); err != nil {
		return nil, false, err
	}
	// Concurrent accepts share one commit (one fsync); the function may
	// run twice, so it only derives state from tx.
	var out *reactions.Event
	var dup bool
	err = j.group(func(tx *bolt.Tx) error {
		out, dup = nil, false
		if prev, err := keyed(tx, ev); err != nil || prev != nil {
			if err == nil && !ev.Repeats(prev) {
				return keyConflict(ev, prev)
			}
			out, dup = prev, prev != nil
			return err
		}
		events := tx.Bucket(bucketEvents)
		seq, err := events.NextSequence()
		if err != nil {
			return err
		}
		e := *ev
		if e.ID == "" {
			e.ID = fmt.Sprintf("%s-%s-%06d", j.node, j.now().UTC().Format("20060102T150405"), seq)
		} else if tx.Bucket(bucketIDs).Get([]byte(e.ID)) != nil {
			return fmt.Errorf("%w: event %s exists", reactions.ErrConflict, e.ID)
		}
		if e.Status == "" {
			e.Status = reactions.StatusAccepted
		}
		if err := putEvent(tx, seq, &e); err != nil {
			return err
		}
		if err := tx.Bucket(bucketIDs).Put([]byte(e.ID), u64(seq)); err != nil {
			return err
		}
		if e.Key != "" {
			if err := putKey(tx, &e); err != nil {
				return err
			}
		}
		out = &e
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("journal accept: %w", wrapStorage(err))
	}
	return out, dup, nil
}

// Get returns an event by ID.
func (j *Journal) Get(id string) (*reactions.Event, error) {
	var ev *reactions.Event
	err := j.view(func(tx *bolt.Tx) error {
		var err error
		ev, err = getEvent(tx, id)
		return err
	})
	return ev, err
}

// Update rewrites an event that is not final yet (status, runs).
func (j *Journal) Update(ev *reactions.Event) error { return <-j.UpdateAsync(ev) }

// UpdateAsync queues the rewrite of an event and returns at once; the
// channel yields the commit's outcome. Writes queued after it (such as the
// event's Finish) commit after it, so a late "running" mark can never
// overwrite a final result.
func (j *Journal) UpdateAsync(ev *reactions.Event) <-chan error {
	id := ev.ID
	b, err := json.Marshal(ev)
	if err != nil {
		errc := make(chan error, 1)
		errc <- fmt.Errorf("journal update %s: %w", id, err)
		return errc
	}
	out := make(chan error, 1)
	res := j.enqueue(func(tx *bolt.Tx) error {
		seq, err := seqOf(tx, id)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketEvents).Put(u64(seq), b)
	})
	go func() {
		if err := <-res; err != nil {
			out <- fmt.Errorf("journal update %s: %w", id, wrapStorage(err))
			return
		}
		out <- nil
	}()
	return out
}

// Finish stores an event's final result and the last action per VIP, in
// one transaction.
func (j *Journal) Finish(ev *reactions.Event) error { return j.FinishWithReports(ev, nil) }

// FinishWithReports is Finish that also stores the reports the result
// produces, in the same transaction; when it returns nil they are all on
// disk.
func (j *Journal) FinishWithReports(ev *reactions.Event, reports []Report) error {
	err := j.group(func(tx *bolt.Tx) error {
		seq, err := seqOf(tx, ev.ID)
		if err != nil {
			return err
		}
		if err := putEvent(tx, seq, ev); err != nil {
			return err
		}
		if ev.Result != nil && !ev.Result.DryRun {
			for _, s := range ev.Result.Steps {
				if s.VIP == "" || s.Outcome == reactions.OutcomeSkipped {
					continue
				}
				last := LastAction{EventID: ev.ID, Step: s}
				b, err := json.Marshal(last)
				if err != nil {
					return err
				}
				if err := tx.Bucket(bucketVIPs).Put([]byte(s.VIP), b); err != nil {
					return err
				}
			}
		}
		if err := putIntents(tx, reactions.IntentsOf(ev)); err != nil {
			return err
		}
		for i := range reports {
			if err := putReport(tx, &reports[i], j.now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal finish %s: %w", ev.ID, wrapStorage(err))
	}
	return nil
}

// LastAction is the latest step that touched a VIP.
type LastAction struct {
	EventID string               `json:"event_id"`
	Step    reactions.StepResult `json:"step"`
}

// LastActions returns the latest step per VIP.
func (j *Journal) LastActions() (map[string]LastAction, error) {
	out := map[string]LastAction{}
	err := j.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketVIPs).ForEach(func(k, v []byte) error {
			var la LastAction
			if err := json.Unmarshal(v, &la); err != nil {
				return err
			}
			out[string(k)] = la
			return nil
		})
	})
	return out, err
}

// putIntents keeps the newest intent per VIP.
func putIntents(tx *bolt.Tx, intents map[string]reactions.VIPIntent) error {
	b := tx.Bucket(bucketIntent)
	for vip, in := range intents {
		if old := b.Get([]byte(vip)); old != nil {
			var cur reactions.VIPIntent
			if json.Unmarshal(old, &cur) == nil && cur.At.After(in.At) {
				continue
			}
		}
		v, err := json.Marshal(in)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(vip), v); err != nil {
			return err
		}
	}
	return nil
}

// LastIntents returns the newest intent journaled per VIP.
func (j *Journal) LastIntents() (map[string]reactions.VIPIntent, error) {
	out := map[string]reactions.VIPIntent{}
	err := j.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIntent).ForEach(func(k, v []byte) error {
			var in reactions.VIPIntent
			if err := json.Unmarshal(v, &in); err != nil {
				return err
			}
			out[string(k)] = in
			return nil
		})
	})
	return out, err
}

// Filter narrows List and Page.
type Filter struct {
	Status reactions.Status
	// Limit caps the number of events; 0 means 100.
	Limit int
	// Cursor continues a listing where an earlier page stopped (its
	// Next); "" starts with the newest event.
	Cursor string
	// MaxScan bounds how many events a page with a status filter looks
	// at; 0 means MaxScan.
	MaxScan int
}

// MaxScan is how many events one page looks at by default when it
// filters by status: a filter that matches little costs a bounded scan
// per page, and the page's cursor goes on from where the scan stopped.
const MaxScan = 10000

// Page is one page of a listing, newest first.
type Page struct {
	// Events are as journaled (JSON).
	Events []json.RawMessage
	// Next continues the listing; "" when it is complete.
	Next string
	// Scanned counts the events the page looked at.
	Scanned int
}

// Page returns the events f selects, newest first, as journaled: a status
// filter is matched on the raw bytes first and decodes only the status,
// so that a page never decodes more than it returns.
func (j *Journal) Page(f Filter) (Page, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.MaxScan <= 0 {
		f.MaxScan = MaxScan
	}
	var from uint64
	if f.Cursor != "" {
		n, err := strconv.ParseUint(f.Cursor, 10, 64)
		if err != nil || n == 0 {
			return Page{}, reactions.Invalid("cursor: %q is not a cursor of an earlier page", shorten(f.Cursor, 40))
		}
		from = n
	}
	var needle []byte
	if f.Status != "" {
		needle = []byte(`"status":"` + string(f.Status) + `"`)
	}
	var p Page
	err := j.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		var k, v []byte
		if from == 0 {
			k, v = c.Last()
		} else if k, _ = c.Seek(u64(from)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil; k, v = c.Prev() {
			if len(p.Events) == f.Limit || (needle != nil && p.Scanned == f.MaxScan) {
				p.Next = strconv.FormatUint(binary.BigEndian.Uint64(k)+1, 10)
				return nil
			}
			p.Scanned++
			if needle != nil {
				if !bytes.Contains(v, needle) {
					continue
				}
				var st struct {
					Status reactions.Status `json:"status"`
				}
				if err := json.Unmarshal(v, &st); err != nil {
					return fmt.Errorf("decode event %x: %w", k, err)
				}
				if st.Status != f.Status {
					continue
				}
			}
			p.Events = append(p.Events, bytes.Clone(v))
		}
		return nil
	})
	return p, err
}

// List returns the events of one page, decoded.
func (j *Journal) List(f Filter) ([]*reactions.Event, error) {
	p, err := j.Page(f)
	if err != nil {
		return nil, err
	}
	out := make([]*reactions.Event, 0, len(p.Events))
	for _, raw := range p.Events {
		var ev reactions.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("decode event: %w", err)
		}
		out = append(out, &ev)
	}
	return out, nil
}

func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// Unfinished returns the events that were accepted but have no final
// result, oldest first: after a crash, these are run again.
func (j *Journal) Unfinished() ([]*reactions.Event, error) {
	var out []*reactions.Event
	err := j.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEvents).ForEach(func(k, v []byte) error {
			// Cheap pre-check before decoding every finished event.
			if !bytes.Contains(v, []byte(`"status":"accepted"`)) && !bytes.Contains(v, []byte(`"status":"running"`)) {
				return nil
			}
			var ev reactions.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("decode event %x: %w", k, err)
			}
			if !ev.Status.Final() {
				out = append(out, &ev)
			}
			return nil
		})
	})
	return out, err
}

// Stats describes the journal for metrics and readiness.
type Stats struct {
	Events int   `json:"events"`
	Bytes  int64 `json:"bytes"`
}

// Stats counts events and measures the file.
func (j *Journal) Stats() (Stats, error) {
	var s Stats
	err := j.view(func(tx *bolt.Tx) error {
		s.Events = tx.Bucket(bucketEvents).Stats().KeyN
		s.Bytes = tx.Size()
		return nil
	})
	return s, err
}

// Ping checks that the journal can be read and commit; it backs /readyz
// (see Health).
func (j *Journal) Ping() error {
	err := j.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketEvents) == nil {
			return errors.New("journal has no events bucket")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return j.Health()
}

// Prune deletes final events older than age, and the oldest final events
// beyond keep, then keeps the journal within its byte budget (Trim).
// Events with undelivered reports are kept.
func (j *Journal) Prune(age time.Duration, keep int) (int, error) {
	n, err := j.prune(j.now().Add(-age), keep)
	if err != nil {
		return n, err
	}
	t, err := j.Trim()
	return n + t.Pruned, err
}

// prune deletes final events received before cutoff, and the oldest final
// events beyond keep, except those with undelivered reports; finished
// reports done before cutoff or of a pruned event go too.
func (j *Journal) prune(cutoff time.Time, keep int) (int, error) {
	var pruned int
	err := j.update(func(tx *bolt.Tx) error {
		pending := map[string]bool{}
		if err := tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			var r Report
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if r.State == ReportPending {
				pending[r.EventID] = true
			}
			return nil
		}); err != nil {
			return err
		}
		events := tx.Bucket(bucketEvents)
		total := events.Stats().KeyN
		var doomed [][]byte
		var doomedIDs []reactions.Event
		c := events.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var ev reactions.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return err
			}
			old := ev.ReceivedAt.Before(cutoff)
			over := total-len(doomed) > keep
			if !old && !over {
				break
			}
			if !ev.Status.Final() || pending[ev.ID] {
				continue
			}
			doomed = append(doomed, append([]byte(nil), k...))
			doomedIDs = append(doomedIDs, ev)
		}
		for i, k := range doomed {
			ev := doomedIDs[i]
			if err := events.Delete(k); err != nil {
				return err
			}
			if err := tx.Bucket(bucketIDs).Delete([]byte(ev.ID)); err != nil {
				return err
			}
			if err := deleteKey(tx.Bucket(bucketKeys), &ev); err != nil {
				return err
			}
		}
		pruned = len(doomed)
		gone := make(map[string]bool, len(doomedIDs))
		for _, ev := range doomedIDs {
			gone[ev.ID] = true
		}
		return pruneReports(tx, cutoff, gone)
	})
	if err != nil {
		return 0, fmt.Errorf("journal prune: %w", wrapStorage(err))
	}
	return pruned, nil
}

func getEvent(tx *bolt.Tx, id string) (*reactions.Event, error) {
	seq, err := seqOf(tx, id)
	if err != nil {
		return nil, err
	}
	v := tx.Bucket(bucketEvents).Get(u64(seq))
	if v == nil {
		return nil, fmt.Errorf("event %s: %w", id, reactions.ErrNotFound)
	}
	var ev reactions.Event
	if err := json.Unmarshal(v, &ev); err != nil {
		return nil, fmt.Errorf("decode event %s: %w", id, err)
	}
	return &ev, nil
}

func seqOf(tx *bolt.Tx, id string) (uint64, error) {
	v := tx.Bucket(bucketIDs).Get([]byte(id))
	if v == nil {
		return 0, fmt.Errorf("event %s: %w", id, reactions.ErrNotFound)
	}
	return binary.BigEndian.Uint64(v), nil
}

func putEvent(tx *bolt.Tx, seq uint64, ev *reactions.Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketEvents).Put(u64(seq), b)
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// wrapStorage marks write failures (disk full, read-only file system) as
// ErrUnavailable so that intake answers 503 and acknowledges nothing.
func wrapStorage(err error) error {
	if errors.Is(err, reactions.ErrNotFound) || errors.Is(err, reactions.ErrConflict) || errors.Is(err, reactions.ErrInvalid) {
		return err
	}
	msg := err.Error()
	if strings.Contains(msg, "database not open") {
		return fmt.Errorf("%w: journal closed", reactions.ErrUnavailable)
	}
	return fmt.Errorf("%w: %v", reactions.ErrUnavailable, err)
}

// FileName is the journal's file in its data directory.
const FileName = "journal.db"

// PathIn is the journal's file in the data directory dir.
func PathIn(dir string) string { return filepath.Join(dir, FileName) }
