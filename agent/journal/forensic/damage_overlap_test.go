package forensic

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/vipagent/vipagent/agent/journal"
)

// A page whose overflow count claims the next page of the tree (one byte of
// its header changed) makes that page reachable twice. bbolt rebuilds the
// freelist at open by walking the tree and panics on it, half-way through
// the open, leaving the file mapped and locked. The inspection must see it
// first, every time, whichever of the two pages the walk meets first; and
// the recovery then salvages the events.
func TestOverflowClaimingAnotherPage(t *testing.T) {
	dir := t.TempDir()
	f := writeFixture(t, dir, fixtureEvents)
	l := pageLayout(t, f.path)
	used := map[uint64]bool{}
	for _, ids := range []map[string][]uint64{l.branches, l.leaves} {
		for _, list := range ids {
			for _, id := range list {
				used[id] = true
			}
		}
	}
	tried := 0
	for id := range used {
		if !used[id+1] {
			continue
		}
		tried++
		t.Run("", func(t *testing.T) {
			path := dir + "/claim.db"
			orig, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, orig, 0o600); err != nil {
				t.Fatal(err)
			}
			var one [4]byte
			binary.NativeEndian.PutUint32(one[:], 1)
			writeAt(t, path, int64(id)*int64(l.pageSize)+12, one[:])
			damaged, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Check(path); err == nil {
				t.Fatalf("page %d claiming page %d: Check says clean", id, id+1)
			}
			j, rec, err := OpenOrRecover(path, journal.Options{Node: "rm1", Now: recoveryClock})
			if err != nil {
				t.Fatalf("OpenOrRecover: %v", err)
			}
			defer j.Close()
			if rec == nil || rec.SalvageError != "" || rec.Stats.Events.Copied == 0 {
				t.Fatalf("page %d claiming page %d: recovery %+v", id, id+1, rec)
			}
			g := fixture{path: path, events: f.events, reports: f.reports, unfinished: f.unfinished}
			checkRecovery(t, g, j, rec, damaged, false)
			j.Close()
			os.Remove(path)
			os.Remove(rec.DamagedPath)
		})
	}
	if tried == 0 {
		t.Fatal("the fixture has no two consecutive tree pages")
	}
}
