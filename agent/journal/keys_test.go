package journal

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/vipagent/vipagent/reactions"
)

// A key is a duplicate only within its door's scope: an alarm (trigger
// role) cannot claim the key a peer or an admin will use and have that
// VIP action answered from the alarm instead of run.
func TestKeysAreScopedByDoor(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	first := map[string]string{} // scope -> event ID
	for _, tt := range []struct {
		src     reactions.Source
		wantDup bool
	}{
		{reactions.SourceHTTP, false},
		{reactions.SourceManual, false},
		{reactions.SourcePeer, true}, // peers and admins share the VIP door
		{reactions.SourceCLI, true},
		{reactions.SourceAlertmanager, false}, // derived keys: an alarm cannot pre-empt an alert
		{reactions.SourceAlertmanager, true},
		{reactions.SourceJournal, false},
		{reactions.SourceManual, true},
	} {
		ev := &reactions.Event{Key: "rm2-20261130T070000-000001#0", Source: tt.src, Alarm: reactions.Alarm{Condition: "c"}}
		got, dup, err := j.Accept(ev)
		if err != nil {
			t.Fatalf("accept from %s: %v", tt.src, err)
		}
		if dup != tt.wantDup {
			t.Errorf("accept from %s: duplicate = %v, want %v (answered with %s from %s)", tt.src, dup, tt.wantDup, got.ID, got.Source)
		}
		scope := ev.KeyScope()
		if want, ok := first[scope]; ok && got.ID != want {
			t.Errorf("accept from %s: got %s, want the scope's first event %s", tt.src, got.ID, want)
		}
		first[scope] = got.ID
	}
}

// A journal written before scopes indexed VIP actions' keys bare; a repeat
// still finds them, an alarm may take the bare key over, and pruning the
// VIP action leaves the alarm's entry alone.
func TestBareKeysOfOlderJournals(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	manual := &reactions.Event{Key: "k", Source: reactions.SourceManual, Status: reactions.StatusSucceeded}
	stored, _, err := j.Accept(manual)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.db.Update(func(tx *bolt.Tx) error {
		keys := tx.Bucket(bucketKeys)
		if err := keys.Delete(indexKey(stored)); err != nil {
			return err
		}
		return keys.Put([]byte("k"), []byte(stored.ID))
	}); err != nil {
		t.Fatal(err)
	}
	if got, dup, err := j.Accept(&reactions.Event{Key: "k", Source: reactions.SourcePeer}); err != nil || !dup || got.ID != stored.ID {
		t.Errorf("peer repeat of a bare-indexed key: %v, dup %v, %v", got, dup, err)
	}
	alarm, dup, err := j.Accept(&reactions.Event{Key: "k", Source: reactions.SourceHTTP})
	if err != nil || dup {
		t.Fatalf("alarm with a manual action's bare key: %v, dup %v, %v", alarm, dup, err)
	}
	// The alarm took the bare key; the VIP action keeps its own.
	if got, dup, err := j.Accept(&reactions.Event{Key: "k", Source: reactions.SourcePeer}); err != nil || !dup || got.ID != stored.ID {
		t.Errorf("peer repeat after an alarm took the bare key: %v, dup %v, %v; want a duplicate of %s", got, dup, err, stored.ID)
	}
	if n, err := j.Prune(0, 0); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want the manual action pruned", n, err)
	}
	if got, dup, err := j.Accept(&reactions.Event{Key: "k", Source: reactions.SourceCLI}); err != nil || !dup || got.ID != alarm.ID {
		t.Errorf("alarm repeat after pruning the manual action: %v, dup %v, %v", got, dup, err)
	}
}
