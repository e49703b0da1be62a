package journal

import (
	"errors"
	"path/filepath"
	"strings"
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

// A key belongs to its sender: another credential's event with the same key
// runs (it is no repeat of the first), the same sender's repeat is a
// duplicate, and the same sender's other alarm is a conflict naming the
// first event.
func TestKeysBelongToTheirSender(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	harmless := reactions.Alarm{ID: "scs-4711", Condition: "HARMLESS"}
	stopped := reactions.Alarm{ID: "scs-4711", Condition: "RM1_Stopped"}
	first, _, err := j.Accept(&reactions.Event{Key: "scs-4711", Sender: "token:mallory", Alarm: harmless})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = j.Accept(&reactions.Event{Key: "scs-4711", Sender: "token:mallory", Alarm: stopped})
	if !errors.Is(err, reactions.ErrConflict) || !strings.Contains(err.Error(), first.ID) {
		t.Errorf("same sender, same key, another alarm: %v; want a conflict naming %s", err, first.ID)
	}
	other, dup, err := j.Accept(&reactions.Event{Key: "scs-4711", Sender: "token:scs", Alarm: stopped})
	if err != nil || dup || other.ID == first.ID {
		t.Fatalf("another sender's alarm with the same key: %+v, dup %v, %v; want it stored", other, dup, err)
	}
	for _, tt := range []struct {
		sender string
		alarm  reactions.Alarm
		want   string
	}{
		{"token:scs", stopped, other.ID},
		{"token:mallory", harmless, first.ID},
	} {
		got, dup, err := j.Accept(&reactions.Event{Key: "scs-4711", Sender: tt.sender, Alarm: tt.alarm})
		if err != nil || !dup || got.ID != tt.want {
			t.Errorf("repeat from %s: %+v, dup %v, %v; want a duplicate of %s", tt.sender, got, dup, err, tt.want)
		}
	}
	// Pruning one sender's event frees its key and leaves the other's.
	if err := j.Finish(&reactions.Event{ID: first.ID, Key: first.Key, Sender: first.Sender, Alarm: harmless, Status: reactions.StatusSucceeded, ReceivedAt: first.ReceivedAt}); err != nil {
		t.Fatal(err)
	}
	if n, err := j.Prune(0, 1); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want the first event pruned", n, err)
	}
	if got, dup, err := j.Accept(&reactions.Event{Key: "scs-4711", Sender: "token:scs", Alarm: stopped}); err != nil || !dup || got.ID != other.ID {
		t.Errorf("repeat from token:scs after pruning the other sender's: %+v, dup %v, %v", got, dup, err)
	}
	if _, dup, err := j.Accept(&reactions.Event{Key: "scs-4711", Sender: "token:mallory", Alarm: stopped}); err != nil || dup {
		t.Errorf("token:mallory after its event was pruned: dup %v, %v; want a new event", dup, err)
	}
}

// An event journaled before senders were recorded belongs to every sender
// of its door: a repeat after the upgrade is answered from it, another
// alarm with its key is a conflict.
func TestSenderlessKeysOfOlderJournals(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	for _, tt := range []struct {
		src  reactions.Source
		plan *reactions.Plan
	}{
		{reactions.SourceHTTP, nil},
		{reactions.SourceManual, &reactions.Plan{Reaction: "manual-disable", Steps: []reactions.Step{{Action: reactions.ActionDisable, VIP: "v", Node: "rm1"}}}},
	} {
		key := "old-" + string(tt.src)
		old, _, err := j.Accept(&reactions.Event{Key: key, Source: tt.src, Alarm: reactions.Alarm{Condition: "c"}, Plan: tt.plan})
		if err != nil {
			t.Fatal(err)
		}
		got, dup, err := j.Accept(&reactions.Event{Key: key, Source: tt.src, Sender: "token:scs", Alarm: reactions.Alarm{Condition: "c"}, Plan: tt.plan})
		if err != nil || !dup || got.ID != old.ID {
			t.Errorf("%s: repeat of a senderless event: %+v, dup %v, %v", tt.src, got, dup, err)
		}
		if _, _, err := j.Accept(&reactions.Event{Key: key, Source: tt.src, Sender: "token:scs", Alarm: reactions.Alarm{Condition: "d"}, Plan: tt.plan}); !errors.Is(err, reactions.ErrConflict) {
			t.Errorf("%s: another alarm with a senderless event's key: %v, want a conflict", tt.src, err)
		}
	}
}
