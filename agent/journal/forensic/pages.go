package forensic

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"

	"github.com/vipagent/vipagent/agent/journal"
)

// A reader of bbolt's file format that goes through ReadAt and checks every
// offset, never through the mmap: a damaged file gives errors here, not
// panics or page faults. It backs the check before bbolt opens a file,
// Check, and Salvage. The layout is bbolt's (go.etcd.io/bbolt/internal/
// common), format version 2, in the machine's byte order as bbolt writes it.

const (
	pageHeaderSize = 16 // id u64, flags u16, count u16, overflow u32
	elemSize       = 16 // branch: pos u32, ksize u32, pgid u64; leaf: flags u32, pos u32, ksize u32, vsize u32
	bucketHeader   = 16 // root pgid u64, sequence u64
	metaSize       = 64 // magic .. checksum
	minPages       = 4  // two meta pages, a freelist and the root leaf

	flagBranch   = 0x01
	flagLeaf     = 0x02
	flagMeta     = 0x04
	flagFreelist = 0x10

	leafBucketFlag = 0x01

	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	noFreelist     = ^uint64(0)
	maxPageSize    = 1 << 24
	maxBucketDepth = 8
	// maxTxID is far beyond any real journal (a commit a microsecond for
	// a hundred thousand years) and far from wrapping.
	maxTxID = 1 << 62
)

var ne = binary.NativeEndian

// meta is a decoded meta page.
type meta struct {
	pageSize uint32
	root     uint64 // root bucket's page
	freelist uint64
	hwm      uint64 // pages in use: the high water mark
	txid     uint64
}

// parseMeta decodes the meta held by a page starting at buf[0].
func parseMeta(buf []byte) (meta, error) {
	if len(buf) < pageHeaderSize+metaSize {
		return meta{}, errors.New("short meta page")
	}
	m := buf[pageHeaderSize : pageHeaderSize+metaSize]
	if ne.Uint32(m[0:]) != boltMagic {
		return meta{}, errors.New("bad magic (not a bbolt file)")
	}
	if v := ne.Uint32(m[4:]); v != boltVersion {
		return meta{}, fmt.Errorf("unsupported format version %d", v)
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != ne.Uint64(m[56:]) {
		return meta{}, errors.New("bad checksum")
	}
	out := meta{pageSize: ne.Uint32(m[8:]), root: ne.Uint64(m[16:]), freelist: ne.Uint64(m[32:]),
		hwm: ne.Uint64(m[40:]), txid: ne.Uint64(m[48:])}
	if out.pageSize < 1024 || out.pageSize > maxPageSize || out.pageSize&(out.pageSize-1) != 0 {
		return meta{}, fmt.Errorf("implausible page size %d", out.pageSize)
	}
	// Bounds past which the file cannot be (its size in bytes would not
	// fit in an int64) or bbolt could not go on (the next commit's id
	// would wrap): bbolt trusts both, and an absurd high water mark makes
	// it work through that many pages at open (a hang).
	if out.hwm > math.MaxInt64/uint64(out.pageSize) {
		return meta{}, fmt.Errorf("implausible page count %d", out.hwm)
	}
	if out.txid > maxTxID {
		return meta{}, fmt.Errorf("implausible transaction id %d", out.txid)
	}
	if out.hwm < minPages || out.root < 2 || out.root >= out.hwm || (out.freelist != noFreelist && (out.freelist < 2 || out.freelist >= out.hwm)) {
		return meta{}, fmt.Errorf("meta points outside the file (root %d, freelist %d, pages %d)", out.root, out.freelist, out.hwm)
	}
	return out, nil
}

// at is a problem located in page id.
func (pf *pageFile) at(id uint64, bucket, what string) journal.Problem {
	p := journal.Problem{Page: &id, Bucket: bucket, What: what}
	if pf.pageSize > 0 && id <= math.MaxInt64/uint64(pf.pageSize) {
		off := pf.offset(id)
		p.Offset = &off
	}
	return p
}

// metaProblems lists the meta pages found damaged.
func (pf *pageFile) metaProblems() []journal.Problem {
	var out []journal.Problem
	for i, err := range pf.metaErr {
		if err != nil {
			out = append(out, pf.at(uint64(i), "", "meta page: "+err.Error()))
		}
	}
	return out
}

// pageFile reads pages of a bbolt file.
type pageFile struct {
	f        io.ReaderAt
	size     int64
	pageSize int
	metas    [2]*meta // valid meta pages, nil when damaged
	metaErr  [2]error
}

// openPages reads a file's size and meta pages. Damage comes back as a
// Problem; the error is for a file that cannot be read.
func openPages(f *os.File) (*pageFile, *journal.Problem, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	pf := &pageFile{f: f, size: fi.Size()}
	if pf.size == 0 {
		return pf, &journal.Problem{What: "empty file (0 bytes)"}, nil
	}
	head := make([]byte, pageHeaderSize+metaSize)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	var m0 meta
	m0, pf.metaErr[0] = parseMeta(head[:n])
	if pf.metaErr[0] == nil {
		pf.pageSize = int(m0.pageSize)
	} else {
		// Like bbolt, look for the second meta page at every plausible
		// page size.
		for ps := int64(1024); ps <= maxPageSize && ps+int64(len(head)) <= pf.size; ps <<= 1 {
			if n, err := f.ReadAt(head, ps); n == len(head) || errors.Is(err, io.EOF) {
				if m1, err := parseMeta(head[:n]); err == nil && int64(m1.pageSize) == ps {
					pf.pageSize = int(ps)
					break
				}
			} else if err != nil {
				return nil, nil, err
			}
		}
	}
	if pf.pageSize == 0 {
		what := "no valid meta page: " + pf.metaErr[0].Error()
		if pf.size < pageHeaderSize+metaSize {
			what = fmt.Sprintf("truncated to %d bytes (want a multiple of the page size and at least %d pages)", pf.size, minPages)
		}
		return pf, &journal.Problem{What: what}, nil
	}
	if pf.size%int64(pf.pageSize) != 0 || pf.size < minPages*int64(pf.pageSize) {
		return pf, &journal.Problem{What: fmt.Sprintf("truncated to %d bytes (want a multiple of the page size %d and at least %d pages)", pf.size, pf.pageSize, minPages)}, nil
	}
	for i := range pf.metas {
		buf := make([]byte, pageHeaderSize+metaSize)
		if _, err := f.ReadAt(buf, int64(i*pf.pageSize)); err != nil {
			return nil, nil, err
		}
		m, err := parseMeta(buf)
		if err == nil && int(m.pageSize) != pf.pageSize {
			err = fmt.Errorf("page size %d differs from the other meta page's %d", m.pageSize, pf.pageSize)
		}
		if err == nil && (ne.Uint64(buf) != uint64(i) || ne.Uint16(buf[8:]) != flagMeta) {
			err = errors.New("page header is not meta page's")
		}
		if err != nil {
			pf.metaErr[i] = err
			continue
		}
		pf.metas[i] = &m
	}
	return pf, nil, nil
}

// truncation reports a file shorter than the pages meta m uses.
func (pf *pageFile) truncation(m *meta) []journal.Problem {
	if need := pf.offset(m.hwm); m.hwm > uint64(pf.size)/uint64(pf.pageSize) {
		return []journal.Problem{{What: fmt.Sprintf("truncated to %d bytes, but its last commit uses %d pages (%d bytes)", pf.size, m.hwm, need)}}
	}
	return nil
}

// ordered returns the valid meta pages, the one bbolt would use first:
// the highest transaction id.
func (pf *pageFile) ordered() []*meta {
	var out []*meta
	a, b := pf.metas[0], pf.metas[1]
	if a == nil || (b != nil && b.txid > a.txid) {
		a, b = b, a
	}
	for _, m := range []*meta{a, b} {
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

func (pf *pageFile) offset(id uint64) int64 { return int64(id) * int64(pf.pageSize) }

// rawPage is one page with its overflow pages.
type rawPage struct {
	id       uint64
	flags    uint16
	count    uint16
	overflow uint32
	buf      []byte
}

// read reads page id and its overflow pages, checked against the high
// water mark and the file size.
func (pf *pageFile) read(id, hwm uint64) (*rawPage, error) {
	if id < 2 || id >= hwm {
		return nil, fmt.Errorf("page id %d outside the journal's %d pages", id, hwm)
	}
	if pf.offset(id)+int64(pf.pageSize) > pf.size {
		return nil, fmt.Errorf("page beyond the end of the file (%d bytes)", pf.size)
	}
	buf := make([]byte, pf.pageSize)
	if _, err := pf.f.ReadAt(buf, pf.offset(id)); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	p := &rawPage{id: ne.Uint64(buf), flags: ne.Uint16(buf[8:]), count: ne.Uint16(buf[10:]), overflow: ne.Uint32(buf[12:]), buf: buf}
	if p.id != id {
		return nil, fmt.Errorf("page expected to be %d identifies as %d", id, p.id)
	}
	if p.overflow == 0 {
		return p, nil
	}
	end := id + uint64(p.overflow) + 1
	if end > hwm || end < id || pf.offset(end) > pf.size {
		return nil, fmt.Errorf("page with %d overflow pages runs past the end of the journal", p.overflow)
	}
	p.buf = make([]byte, int(p.overflow+1)*pf.pageSize)
	copy(p.buf, buf)
	if _, err := pf.f.ReadAt(p.buf[pf.pageSize:], pf.offset(id+1)); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return p, nil
}

// pageFromBytes decodes an inline bucket's page.
func pageFromBytes(b []byte) (*rawPage, error) {
	if len(b) < pageHeaderSize {
		return nil, errors.New("inline bucket shorter than a page header")
	}
	return &rawPage{id: ne.Uint64(b), flags: ne.Uint16(b[8:]), count: ne.Uint16(b[10:]), overflow: ne.Uint32(b[12:]), buf: b}, nil
}

type leafElem struct {
	bucket     bool
	key, value []byte
}

type branchElem struct {
	key   []byte
	child uint64
}

// elemBytes returns the key (and value) of element i, checked against the page.
func (p *rawPage) elemBytes(i int, pos, ksize, vsize uint32) ([]byte, []byte, error) {
	start := uint64(pageHeaderSize+i*elemSize) + uint64(pos)
	end := start + uint64(ksize) + uint64(vsize)
	if end > uint64(len(p.buf)) {
		return nil, nil, fmt.Errorf("element %d runs past the page (%d > %d bytes)", i, end, len(p.buf))
	}
	k := p.buf[start : start+uint64(ksize)]
	return k, p.buf[start+uint64(ksize) : end], nil
}

func (p *rawPage) leaf() ([]leafElem, error) {
	if p.flags != flagLeaf {
		return nil, fmt.Errorf("unexpected page type %#x, want leaf", p.flags)
	}
	if pageHeaderSize+int(p.count)*elemSize > len(p.buf) {
		return nil, fmt.Errorf("%d elements do not fit in the page", p.count)
	}
	out := make([]leafElem, 0, p.count)
	for i := range int(p.count) {
		e := p.buf[pageHeaderSize+i*elemSize:]
		k, v, err := p.elemBytes(i, ne.Uint32(e[4:]), ne.Uint32(e[8:]), ne.Uint32(e[12:]))
		if err != nil {
			return out, err
		}
		if len(out) > 0 && bytes.Compare(out[len(out)-1].key, k) >= 0 {
			return out, fmt.Errorf("keys out of order at element %d", i)
		}
		out = append(out, leafElem{bucket: ne.Uint32(e)&leafBucketFlag != 0, key: k, value: v})
	}
	return out, nil
}

func (p *rawPage) branch() ([]branchElem, error) {
	if p.flags != flagBranch {
		return nil, fmt.Errorf("unexpected page type %#x, want branch", p.flags)
	}
	if p.count == 0 || pageHeaderSize+int(p.count)*elemSize > len(p.buf) {
		return nil, fmt.Errorf("branch with %d elements does not fit in the page", p.count)
	}
	out := make([]branchElem, 0, p.count)
	for i := range int(p.count) {
		e := p.buf[pageHeaderSize+i*elemSize:]
		k, _, err := p.elemBytes(i, ne.Uint32(e), ne.Uint32(e[4:]), 0)
		if err != nil {
			return out, err
		}
		if len(out) > 0 && bytes.Compare(out[len(out)-1].key, k) >= 0 {
			return out, fmt.Errorf("keys out of order at element %d", i)
		}
		out = append(out, branchElem{key: k, child: ne.Uint64(e[8:])})
	}
	return out, nil
}

// checkFreelist verifies a persisted freelist page, which bbolt reads on
// open when the file has one, and returns the page ids it lists as free.
func (pf *pageFile) checkFreelist(m *meta) ([]uint64, error) {
	p, err := pf.read(m.freelist, m.hwm)
	if err != nil {
		return nil, err
	}
	if p.flags != flagFreelist {
		return nil, fmt.Errorf("unexpected page type %#x, want freelist", p.flags)
	}
	idx, n := 0, uint64(p.count)
	if p.count == 0xFFFF {
		idx, n = 1, ne.Uint64(p.buf[pageHeaderSize:])
	}
	if uint64(pageHeaderSize)+(uint64(idx)+n)*8 > uint64(len(p.buf)) || n > m.hwm {
		return nil, fmt.Errorf("freelist of %d ids does not fit in the page", n)
	}
	ids := make([]uint64, 0, n)
	for i := range n {
		id := ne.Uint64(p.buf[pageHeaderSize+(uint64(idx)+i)*8:])
		if id < 2 || id >= m.hwm {
			return nil, fmt.Errorf("freelist holds page id %d outside the journal", id)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// keysWithin reports a key of the page outside [lo, hi) (nil: unbounded):
// a child whose keys do not follow its parent's branch key would send
// bbolt's searches astray.
func (p *rawPage) keysWithin(lo, hi []byte) error {
	var keys [][]byte
	switch p.flags {
	case flagBranch:
		elems, err := p.branch()
		if err != nil {
			return nil // reported by the walk
		}
		for _, e := range elems {
			keys = append(keys, e.key)
		}
	case flagLeaf:
		elems, err := p.leaf()
		if err != nil {
			return nil
		}
		for _, e := range elems {
			keys = append(keys, e.key)
		}
	}
	for i, k := range keys {
		if len(k) == 0 {
			return fmt.Errorf("key %d is empty", i)
		}
		if lo != nil && bytes.Compare(k, lo) < 0 {
			return fmt.Errorf("key %d sorts before its branch key", i)
		}
		if hi != nil && bytes.Compare(k, hi) >= 0 {
			return fmt.Errorf("key %d sorts at or after the next branch key", i)
		}
	}
	return nil
}
