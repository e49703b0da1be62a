package forensic

import (
	"errors"
	"fmt"

	"github.com/vipagent/vipagent/agent/journal"
)

// maxProblems caps the problems kept from one walk: a file of random bytes
// would otherwise list every page.
const maxProblems = 50

// walker walks a bbolt tree page by page through a pageFile, noting the
// damage it finds and going on with what it can still read.
type walker struct {
	pf       *pageFile
	hwm      uint64
	seen     map[uint64]bool
	problems []journal.Problem
	more     int // problems beyond maxProblems
	// bad holds the pages found damaged (unreadable, or partly readable).
	bad map[uint64]bool
	// onRecord gets every key/value of a bucket (not nested buckets) and
	// the page that holds it.
	onRecord func(bucket string, page uint64, key, value []byte)
	// onBucket gets each bucket's sequence, as NextSequence left it.
	onBucket func(bucket string, seq uint64)
}

func newWalker(pf *pageFile, m *meta) *walker {
	return &walker{pf: pf, hwm: m.hwm, seen: map[uint64]bool{}, bad: map[uint64]bool{},
		onRecord: func(string, uint64, []byte, []byte) {}, onBucket: func(string, uint64) {}}
}

func (w *walker) problem(p journal.Problem) {
	if len(w.problems) >= maxProblems {
		w.more++
		return
	}
	w.problems = append(w.problems, p)
}

func (w *walker) pageProblem(bucket string, id uint64, err error) {
	w.bad[id] = true
	w.problem(w.pf.at(id, bucket, err.Error()))
}

// root walks the tree of one meta page: its freelist, if persisted, and
// every bucket.
func (w *walker) root(m *meta) {
	if m.freelist != noFreelist {
		w.seen[m.freelist] = true
		if _, err := w.pf.checkFreelist(m); err != nil {
			w.pageProblem("", m.freelist, fmt.Errorf("freelist: %w", err))
		}
	}
	w.tree("", m.root, 0)
}

// tree walks the pages below page id, which belongs to bucket ("" is the
// root bucket, whose entries are the journal's buckets).
func (w *walker) tree(bucket string, id uint64, depth int) {
	w.subtree(bucket, id, depth, nil, nil)
}

// subtree is tree for a page below a branch element: every key in it must
// lie in [lo, hi) (nil: unbounded), the range its ancestors give it, as
// bbolt's searches assume.
func (w *walker) subtree(bucket string, id uint64, depth int, lo, hi []byte) {
	if w.seen[id] {
		w.pageProblem(bucket, id, errors.New("page reachable twice"))
		return
	}
	w.seen[id] = true
	p, err := w.pf.read(id, w.hwm)
	if err != nil {
		w.pageProblem(bucket, id, err)
		return
	}
	// Its overflow pages are its own too: one that another page also
	// claims (or that is another page of the tree) is reachable twice,
	// which bbolt's rebuild of the freelist at open cannot survive.
	for i := uint64(1); i <= uint64(p.overflow); i++ {
		if w.seen[id+i] {
			w.pageProblem(bucket, id, fmt.Errorf("its overflow page %d is reachable twice", id+i))
			return
		}
		w.seen[id+i] = true
	}
	if err := p.keysWithin(lo, hi); err != nil {
		w.pageProblem(bucket, id, err)
		return
	}
	w.page(bucket, p, id, depth)
}

// page walks the elements of p, held by page home (p itself, or the page
// holding an inline bucket).
func (w *walker) page(bucket string, p *rawPage, home uint64, depth int) {
	if err := p.keysWithin(nil, nil); err != nil {
		w.pageProblem(bucket, home, err)
		return
	}
	switch p.flags {
	case flagBranch:
		elems, err := p.branch()
		if err != nil {
			w.pageProblem(bucket, home, err)
		}
		for i, e := range elems {
			var hi []byte
			if i+1 < len(elems) {
				hi = elems[i+1].key
			}
			w.subtree(bucket, e.child, depth, e.key, hi)
		}
	case flagLeaf:
		elems, err := p.leaf()
		if err != nil {
			w.pageProblem(bucket, home, err)
		}
		for _, e := range elems {
			switch {
			case e.bucket:
				w.bucket(bucketPath(bucket, e.key), e.value, home, depth+1)
			case bucket == "":
				w.pageProblem(bucket, home, fmt.Errorf("value %s outside any bucket", journal.QuoteKey(e.key)))
			default:
				w.onRecord(bucket, home, e.key, e.value)
			}
		}
	default:
		w.pageProblem(bucket, home, fmt.Errorf("unexpected page type %#x, want branch or leaf", p.flags))
	}
}

// bucket walks a bucket given its header (and inline page, if any), found
// on page home.
func (w *walker) bucket(name string, v []byte, home uint64, depth int) {
	if depth > maxBucketDepth {
		w.pageProblem(name, home, errors.New("buckets nested too deep"))
		return
	}
	if len(v) < bucketHeader {
		w.pageProblem(name, home, errors.New("bucket header cut short"))
		return
	}
	w.onBucket(name, ne.Uint64(v[8:]))
	root := ne.Uint64(v)
	if root != 0 {
		w.tree(name, root, depth)
		return
	}
	p, err := pageFromBytes(v[bucketHeader:])
	if err == nil && p.flags != flagLeaf {
		err = fmt.Errorf("inline bucket page of type %#x, want leaf", p.flags)
	}
	if err != nil {
		w.pageProblem(name, home, err)
		return
	}
	w.page(name, p, home, depth)
}

func bucketPath(parent string, key []byte) string {
	if parent == "" {
		return journal.QuoteKey(key)
	}
	return parent + "/" + journal.QuoteKey(key)
}
