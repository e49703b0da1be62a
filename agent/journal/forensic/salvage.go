package forensic

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

// SalvageOptions tune Salvage.
type SalvageOptions struct {
	// LockTimeout bounds the wait for a process that holds the damaged
	// file; 0 means 1 s.
	LockTimeout time.Duration
	// Now is the clock, for the anti-replay floor; nil means time.Now.
	Now func() time.Time
	// Owned says the caller took the damaged file's lock itself a moment
	// ago, when its open failed on the damage: no other process is at
	// work on it, and this process may still hold the lock (bbolt, giving
	// up half-way through an open, can leave the file mapped, and the
	// mapping keeps the lock), so Salvage does not wait for it.
	Owned bool
}

// Count is how many records of one kind were copied, and how many are
// known to have been lost (named by an index but unreadable).
type Count struct {
	Copied int `json:"copied"`
	Lost   int `json:"lost"`
}

// SalvageStats says what Salvage copied and what it lost.
type SalvageStats struct {
	Events Count `json:"events"`
	// Unfinished and Results are among the copied events: those that will
	// run again, and those that carry a result.
	Unfinished int `json:"unfinished"`
	// Settled counts events found unfinished that a report shows had
	// finished: marked final instead of run again (see settleFinished).
	Settled        int   `json:"settled"`
	Results        int   `json:"results"`
	Reports        Count `json:"reports"`
	PendingReports int   `json:"pending_reports"`
	Keys           Count `json:"keys"`
	LastActions    Count `json:"last_actions"`
	// Signatures counts the anti-replay memory's signatures copied.
	Signatures int `json:"signatures"`
	// SignatureFloor is set when that memory may be incomplete: no request
	// signed before it is accepted (see journal.RememberSignature).
	SignatureFloor *time.Time `json:"signature_floor,omitempty"`
	// UnreadablePages counts damaged pages of the journal's tree: what
	// they held is unknown, and only counted in Lost when an index names it.
	UnreadablePages int `json:"unreadable_pages"`
	// Scanned is set when the tree could not be read whole, so every page
	// of the file was searched for records (which may bring back records
	// pruned earlier, and older versions of lost ones).
	Scanned bool `json:"scanned"`
	// Problems lists the damage met (at most 50).
	Problems []journal.Problem `json:"problems,omitempty"`
}

// Salvage copies whatever can still be read from the journal file from
// into a new journal file to, which must not exist: events (with their
// results), reports in the outbox, idempotency keys and the last action per
// VIP. It never writes to from. It walks the tree of the newest meta page
// page by page, going on past damaged pages; when that tree is damaged, it
// also walks the previous meta page's tree and then searches every page of
// the file for leaf pages holding journal records. Where two versions of a
// record are found the most advanced wins (a final event over a running
// one, a delivered report over a pending one). The indexes (event IDs,
// idempotency keys, report IDs) are rebuilt from the records, so that the
// new journal is consistent. The new file is written beside to and renamed
// into place once complete.
//
// A non-nil error means nothing was written: from could not be read
// (journal.ErrLocked, permissions) or to could not be written.
func Salvage(from, to string, o SalvageOptions) (SalvageStats, error) {
	var st SalvageStats
	f, err := openRegular(from)
	if err != nil {
		return st, fmt.Errorf("salvage: %w", err)
	}
	defer f.Close()
	if _, err := os.Lstat(to); err == nil {
		return st, fmt.Errorf("salvage into %s: %w", to, os.ErrExist)
	}
	if !o.Owned {
		lock, err := journal.LockShared(from, o.LockTimeout)
		if errors.Is(err, journal.ErrLocked) {
			return st, fmt.Errorf("salvage %s: %w", from, journal.ErrLocked)
		}
		if lock != nil {
			defer lock.Close()
		}
	}
	pf, prob, err := openPages(f)
	if err != nil {
		return st, fmt.Errorf("salvage: read %s: %w", from, err)
	}
	s := newSalvager()
	s.now = time.Now
	if o.Now != nil {
		s.now = o.Now
	}
	if prob != nil {
		s.problems = append(s.problems, *prob)
	} else {
		s.problems = pf.metaProblems()
		if ms := pf.ordered(); len(ms) > 0 {
			s.problems = append(s.problems, pf.truncation(ms[0])...)
		}
	}
	s.walk(pf, prob == nil && pf.metas[0] != nil && pf.metas[1] != nil)
	if len(s.problems) > 0 {
		if pf.pageSize == 0 {
			// No meta page says; bbolt uses the OS page size.
			pf.pageSize = os.Getpagesize()
		}
		s.scan(pf)
		st.Scanned = true
	}
	s.settleFinished()
	if !s.sigsComplete {
		s.floor = max(s.floor, uint64(max(s.now().UnixNano(), 0)))
	}
	s.dedupe()
	if err := journal.Restore(to, s.contents()); err != nil {
		return st, fmt.Errorf("salvage: %w", err)
	}
	s.stats(&st)
	return st, nil
}

type salvagedEvent struct {
	raw []byte
	ev  reactions.Event
}

type salvagedReport struct {
	raw []byte
	r   journal.Report
}

// salvager gathers records from a damaged file.
type salvager struct {
	events  map[uint64]*salvagedEvent
	reports map[uint64]*salvagedReport
	vips    map[string][]byte
	intents map[string][]byte
	// The indexes of the newest tree, which name what existed.
	ids, rids  map[string]uint64
	keys       map[string]string
	seqs       map[string]uint64
	undecoded  map[string]map[string]bool // bucket -> keys whose value did not decode
	problems   []journal.Problem
	unreadable int
	// The anti-replay memory (see signatures.go and journal.RememberSignature).
	sigs         map[string][]byte
	floor        uint64
	sigsComplete bool
	now          func() time.Time
	settled      int
}

func newSalvager() *salvager {
	return &salvager{events: map[uint64]*salvagedEvent{}, reports: map[uint64]*salvagedReport{}, vips: map[string][]byte{}, intents: map[string][]byte{},
		ids: map[string]uint64{}, rids: map[string]uint64{}, keys: map[string]string{}, seqs: map[string]uint64{},
		undecoded: map[string]map[string]bool{}, sigs: map[string][]byte{}}
}

// walk reads the tree of the newest meta page and, unless that was clean
// and both meta pages valid, the previous one's too.
func (s *salvager) walk(pf *pageFile, metasOK bool) {
	for i, m := range pf.ordered() {
		w := newWalker(pf, m)
		newest := i == 0
		w.onRecord = func(bucket string, page uint64, k, v []byte) {
			if err := journal.CheckRecord(bucket, k, v); err != nil && newest {
				s.problems = append(s.problems, pf.at(page, bucket, err.Error()))
			}
			s.add(bucket, k, v, newest)
		}
		w.onBucket = func(bucket string, seq uint64) { s.seqs[bucket] = max(s.seqs[bucket], seq) }
		w.root(m)
		if newest {
			s.problems = append(s.problems, w.problems...)
			s.unreadable = len(w.bad)
			s.sigsComplete = metasOK && !slices.ContainsFunc(s.problems, signatureProblem)
			if len(w.problems) == 0 && metasOK {
				return
			}
		}
	}
}

// add takes one record; index records count only from the newest tree,
// where they name what the journal held last.
func (s *salvager) add(bucket string, k, v []byte, newest bool) {
	k, v = bytes.Clone(k), bytes.Clone(v)
	switch bucket {
	case journal.BucketEvents:
		var ev reactions.Event
		if len(k) != 8 || json.Unmarshal(v, &ev) != nil || ev.ID == "" {
			s.undecodable(bucket, k)
			return
		}
		seq := binary.BigEndian.Uint64(k)
		if old := s.events[seq]; old == nil || eventRank(&ev) > eventRank(&old.ev) {
			s.events[seq] = &salvagedEvent{raw: v, ev: ev}
		}
	case journal.BucketOutbox:
		var r journal.Report
		if len(k) != 8 || json.Unmarshal(v, &r) != nil || r.ID == "" {
			s.undecodable(bucket, k)
			return
		}
		seq := binary.BigEndian.Uint64(k)
		if old := s.reports[seq]; old == nil || reportRank(&r) > reportRank(&old.r) {
			s.reports[seq] = &salvagedReport{raw: v, r: r}
		}
	case journal.BucketVIPs:
		var la journal.LastAction
		if json.Unmarshal(v, &la) != nil || la.EventID == "" {
			s.undecodable(bucket, k)
			return
		}
		if _, ok := s.vips[string(k)]; !ok {
			s.vips[string(k)] = v
		}
	case journal.BucketIntents:
		var in reactions.VIPIntent
		if json.Unmarshal(v, &in) != nil || in.At.IsZero() {
			s.undecodable(bucket, k)
			return
		}
		if _, ok := s.intents[string(k)]; !ok {
			s.intents[string(k)] = v
		}
	case journal.BucketIDs:
		if newest && len(v) == 8 {
			s.ids[string(k)] = binary.BigEndian.Uint64(v)
		}
	case journal.BucketReports:
		if newest && len(v) == 8 {
			s.rids[string(k)] = binary.BigEndian.Uint64(v)
		}
	case journal.BucketKeys:
		if newest {
			s.keys[string(k)] = string(v)
		}
	case journal.BucketSignatures, journal.BucketSignatureFloor:
		s.addSignature(bucket, k, v)
	}
}

func (s *salvager) undecodable(bucket string, k []byte) {
	if s.undecoded[bucket] == nil {
		s.undecoded[bucket] = map[string]bool{}
	}
	s.undecoded[bucket][string(k)] = true
}

// eventRank orders versions of an event: later states rank higher.
func eventRank(ev *reactions.Event) int {
	r := ev.Runs
	switch {
	case ev.Status.Final():
		r += 2 << 20
	case ev.Status == reactions.StatusRunning:
		r += 1 << 20
	}
	return r
}

func reportRank(r *journal.Report) int {
	if r.State != journal.ReportPending {
		return r.Attempts + 1<<20
	}
	return r.Attempts
}

// scan searches every page of the file for leaf pages and takes the
// records that look like the journal's: events, reports and last actions
// by their JSON, and whole small buckets stored inline.
func (s *salvager) scan(pf *pageFile) {
	n := uint64(pf.size / int64(pf.pageSize))
	for id := uint64(2); id < n; id++ {
		p, err := pf.read(id, n)
		if err != nil || p.flags != flagLeaf {
			continue
		}
		elems, _ := p.leaf()
		for _, e := range elems {
			switch {
			case e.bucket:
				s.scanInline(e.key, e.value)
			default:
				if b := classify(e.key, e.value); b != "" {
					s.add(b, e.key, e.value, false)
				}
			}
		}
		id += uint64(p.overflow)
	}
}

// scanInline takes the records of a journal bucket stored inline in its
// parent's page.
func (s *salvager) scanInline(name, v []byte) {
	if len(v) < bucketHeader || ne.Uint64(v) != 0 || !journal.IsBucket(name) {
		return
	}
	p, err := pageFromBytes(v[bucketHeader:])
	if err != nil || p.flags != flagLeaf {
		return
	}
	elems, _ := p.leaf()
	for _, e := range elems {
		if !e.bucket {
			s.add(string(name), e.key, e.value, false)
		}
	}
}

// classify names the bucket a record found by scanning belongs to, from
// its shape; "" when it is none of the records worth saving (the indexes
// are rebuilt from the records).
func classify(k, v []byte) string {
	if isSignature(k, v) {
		return journal.BucketSignatures
	}
	if len(v) == 0 || v[0] != '{' {
		return ""
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(v, &fields) != nil {
		return ""
	}
	has := func(names ...string) bool {
		for _, n := range names {
			if _, ok := fields[n]; !ok {
				return false
			}
		}
		return true
	}
	switch {
	case len(k) == 8 && has("id", "status", "received_at", "alarm"):
		return journal.BucketEvents
	case len(k) == 8 && has("id", "target", "event_id", "state", "body"):
		return journal.BucketOutbox
	case has("event_id", "step"):
		return journal.BucketVIPs
	}
	return ""
}

// contents is what was gathered, for journal.Restore.
func (s *salvager) contents() *journal.Contents {
	c := &journal.Contents{Events: map[uint64][]byte{}, Reports: map[uint64][]byte{},
		EventSequence: s.seqs[journal.BucketEvents], ReportSequence: s.seqs[journal.BucketOutbox],
		LastActions: s.vips, Intents: s.intents, Signatures: map[string]uint64{}, SignatureFloor: s.floor}
	for k, e := range s.events {
		c.Events[k] = e.raw
	}
	for k, r := range s.reports {
		c.Reports[k] = r.raw
	}
	for sig, exp := range s.sigs {
		c.Signatures[sig] = binary.BigEndian.Uint64(exp)
	}
	return c
}

// dedupe keeps one record per event ID and per report ID (two could only
// come from stale pages found by scanning): the most advanced, then the
// newest.
func (s *salvager) dedupe() {
	byID := map[string]uint64{}
	for _, k := range slices.Sorted(maps.Keys(s.events)) {
		e := s.events[k]
		if old, ok := byID[e.ev.ID]; ok {
			if eventRank(&s.events[old].ev) > eventRank(&e.ev) {
				delete(s.events, k)
				continue
			}
			delete(s.events, old)
		}
		byID[e.ev.ID] = k
	}
	clear(byID)
	for _, k := range slices.Sorted(maps.Keys(s.reports)) {
		r := s.reports[k]
		if old, ok := byID[r.r.ID]; ok {
			if reportRank(&s.reports[old].r) > reportRank(&r.r) {
				delete(s.reports, k)
				continue
			}
			delete(s.reports, old)
		}
		byID[r.r.ID] = k
	}
}

// stats counts what was copied and what the indexes name but is missing.
func (s *salvager) stats(st *SalvageStats) {
	haveEvent := map[string]bool{}
	for _, e := range s.events {
		haveEvent[e.ev.ID] = true
		st.Events.Copied++
		if !e.ev.Status.Final() {
			st.Unfinished++
		}
		if e.ev.Result != nil {
			st.Results++
		}
		if e.ev.Key != "" {
			st.Keys.Copied++
		}
	}
	haveReport := map[string]bool{}
	for _, r := range s.reports {
		haveReport[r.r.ID] = true
		st.Reports.Copied++
		if r.r.State == journal.ReportPending {
			st.PendingReports++
		}
	}
	st.Events.Lost = lost(s.ids, haveEvent, s.undecoded[journal.BucketEvents], func(k uint64) bool { return s.events[k] != nil })
	st.Reports.Lost = lost(s.rids, haveReport, s.undecoded[journal.BucketOutbox], func(k uint64) bool { return s.reports[k] != nil })
	for _, id := range s.keys {
		if !haveEvent[id] {
			st.Keys.Lost++
		}
	}
	st.LastActions.Copied = len(s.vips)
	for k := range s.undecoded[journal.BucketVIPs] {
		if _, ok := s.vips[k]; !ok {
			st.LastActions.Lost++
		}
	}
	st.UnreadablePages = s.unreadable
	st.Settled = s.settled
	st.Signatures = len(s.sigs)
	if s.floor != 0 {
		t := time.Unix(0, int64(s.floor)).UTC()
		st.SignatureFloor = &t
	}
	st.Problems = s.problems[:min(len(s.problems), maxProblems)]
}

// lost counts the records an index names that were not copied, and the
// undecodable ones not found in another version, once each.
func lost(index map[string]uint64, have map[string]bool, undecoded map[string]bool, copied func(uint64) bool) int {
	seqs := map[uint64]bool{}
	for id, seq := range index {
		if !have[id] {
			seqs[seq] = true
		}
	}
	for k := range undecoded {
		if len(k) == 8 {
			if seq := binary.BigEndian.Uint64([]byte(k)); !copied(seq) {
				seqs[seq] = true
			}
		}
	}
	return len(seqs)
}
