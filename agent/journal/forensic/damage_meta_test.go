package forensic

import (
	"errors"
	"hash/fnv"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

// patchMetas sets a field of both meta pages and recomputes their checksums:
// damage no checksum catches (a bug, or a write of wrong values).
func patchMetas(t *testing.T, path string, off int, v uint64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := int(ne.Uint32(b[pageHeaderSize+8:]))
	for i := range 2 {
		m := b[i*ps+pageHeaderSize : i*ps+pageHeaderSize+metaSize]
		ne.PutUint64(m[off:], v)
		h := fnv.New64a()
		h.Write(m[:56])
		ne.PutUint64(m[56:], h.Sum64())
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Meta pages with a valid checksum but absurd values: a page count whose
// byte size overflows (bbolt would work through that many pages at open: a
// hang), or a transaction id about to wrap (every commit would fail).
// They are damage, found by Check and recovered from, within bounds.
func TestImplausibleMetaValues(t *testing.T) {
	tests := []struct {
		name string
		off  int
		v    uint64
		want string
	}{
		{"page count 2^61", 40, 1 << 61, "implausible page count"},
		{"page count max", 40, math.MaxUint64, "implausible page count"},
		{"page count past the file", 40, 1 << 40, "its last commit uses 1099511627776 pages"},
		{"transaction id max", 48, math.MaxUint64, "implausible transaction id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := writeFixture(t, t.TempDir(), 12)
			patchMetas(t, f.path, tt.off, tt.v)
			if _, err := Check(f.path); !errors.Is(err, journal.ErrDamaged) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check: %v, want damage with %q", err, tt.want)
			}
			type opened struct {
				j   *journal.Journal
				rec *Recovery
				err error
			}
			done := make(chan opened, 1)
			go func() {
				j, rec, err := OpenOrRecover(f.path, journal.Options{Node: "rm1", Now: recoveryClock})
				done <- opened{j, rec, err}
			}()
			var o opened
			select {
			case o = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("OpenOrRecover still running after 20s")
			}
			if o.err != nil || o.rec == nil {
				t.Fatalf("OpenOrRecover: %v, %v; want a recovery", o.rec, o.err)
			}
			defer o.j.Close()
			if _, _, err := o.j.Accept(&reactions.Event{Key: "after", Alarm: reactions.Alarm{Condition: "c"}}); err != nil {
				t.Errorf("Accept after the recovery: %v", err)
			}
			if un, err := o.j.Unfinished(); err != nil || len(un) != len(f.unfinished)+1 {
				t.Errorf("Unfinished after the recovery: %d, %v; want the fixture's %d and the new one", len(un), err, len(f.unfinished))
			}
		})
	}
}
