package journal

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/vipagent/vipagent/reactions"
)

// Restore writes records as given and rebuilds the indexes from them: the
// new journal finds events by ID and by idempotency key (in their scope),
// reports by ID, numbers new events and reports after the old ones, and
// keeps the anti-replay memory and its floor. It never replaces a file.
func TestRestoreRebuildsTheIndexes(t *testing.T) {
	now := time.Unix(1764460800, 0)
	clock := func() time.Time { return now }
	evA := reactions.Event{ID: "rm1-a-000003", Key: "k", Source: reactions.SourceHTTP, Alarm: reactions.Alarm{Condition: "c"}, Status: reactions.StatusSucceeded}
	evB := reactions.Event{ID: "rm1-b-000007", Key: "k", Source: reactions.SourceHTTP, Sender: "ops", Alarm: reactions.Alarm{Condition: "c"}, Status: reactions.StatusAccepted}
	rep := Report{ID: "rm1-a-000003/sink", Seq: 4, Target: "sink", EventID: evA.ID, Body: json.RawMessage(`{}`), State: ReportPending}
	raw := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	floor := now.Add(-time.Minute)
	c := &Contents{
		Events:        map[uint64][]byte{3: raw(evA), 7: raw(evB)},
		Reports:       map[uint64][]byte{4: raw(rep)},
		EventSequence: 9, ReportSequence: 2,
		LastActions:    map[string][]byte{"rm-vip": raw(LastAction{EventID: evA.ID, Step: reactions.StepResult{VIP: "rm-vip"}})},
		Signatures:     map[string]uint64{"sha256=aa": uint64(now.Add(time.Hour).UnixNano())},
		SignatureFloor: uint64(floor.UnixNano()),
	}
	path := filepath.Join(t.TempDir(), "new", "j.db")
	if err := Restore(path, c); err != nil {
		t.Fatal(err)
	}
	if err := Restore(path, c); !errors.Is(err, os.ErrExist) {
		t.Errorf("Restore over an existing file: %v, want ErrExist", err)
	}
	j := open(t, path, Options{Now: clock})
	for _, want := range []reactions.Event{evA, evB} {
		got, err := j.Get(want.ID)
		if err != nil {
			t.Fatalf("Get(%s): %v", want.ID, err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("event %s (-want +got):\n%s", want.ID, diff)
		}
		again := want
		again.ID, again.Status = "", ""
		if prev, dup, err := j.Accept(&again); err != nil || !dup || prev.ID != want.ID {
			t.Errorf("key %q from %q after Restore: %v, %v, %v; want event %s", want.Key, want.Sender, prev, dup, err, want.ID)
		}
	}
	if got, err := j.GetReport(rep.ID); err != nil || got.EventID != evA.ID {
		t.Errorf("GetReport: %+v, %v", got, err)
	}
	if la, err := j.LastActions(); err != nil || la["rm-vip"].EventID != evA.ID {
		t.Errorf("LastActions: %+v, %v", la, err)
	}
	ev, _, err := j.Accept(&reactions.Event{Alarm: reactions.Alarm{Condition: "new"}})
	if err != nil {
		t.Fatal(err)
	}
	if seq, err := j.seq(ev.ID); err != nil || seq != 10 {
		t.Errorf("new event numbered %d (%v), want 10: after the old sequence", seq, err)
	}
	if err := j.AddReports([]Report{{ID: "new/sink", Target: "sink", EventID: ev.ID, Body: json.RawMessage(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if r, err := j.GetReport("new/sink"); err != nil || r.Seq != 5 {
		t.Errorf("new report numbered %d (%v), want 5: after the highest record", r.Seq, err)
	}
	if fresh, err := j.RememberSignature("sha256=aa", now, now.Add(time.Hour)); fresh || err != nil {
		t.Errorf("restored signature: fresh %v, %v; want a replay", fresh, err)
	}
	if _, err := j.RememberSignature("sha256=bb", floor, now.Add(time.Hour)); !errors.Is(err, ErrSignedBeforeRecovery) {
		t.Errorf("signed at the floor: %v, want ErrSignedBeforeRecovery", err)
	}

	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := Restore(bad, &Contents{Events: map[uint64][]byte{1: []byte(`{"status":"accepted"}`)}}); err == nil {
		t.Error("Restore of an event without an ID succeeded")
	}
	if _, err := os.Lstat(bad); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed Restore left %s: %v", bad, err)
	}
}

// seq is the sequence number an event is stored under.
func (j *Journal) seq(id string) (seq uint64, err error) {
	err = j.view(func(tx *bolt.Tx) error {
		seq, err = seqOf(tx, id)
		return err
	})
	return seq, err
}
