package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/reactions"
)

// finished journals one finished event: an alarm with textLen bytes of
// text and labels, and a two-step result such as a move leaves.
func finished(t testing.TB, j *Journal, key string, textLen int) *reactions.Event {
	t.Helper()
	ev, _, err := j.Accept(finishedAlarm(key, textLen))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	st := func(i int, a reactions.Action, node string, before bool) reactions.StepResult {
		return reactions.StepResult{Index: i, Action: a, VIP: "rm-vip", Node: node, Backend: "netlink", Outcome: reactions.OutcomeChanged,
			Before: &reactions.VIPState{Present: before, Detail: "192.0.2.100/24 on eth0"}, After: &reactions.VIPState{Present: !before, Detail: "192.0.2.100/24 on eth0"},
			StartedAt: now, DurationMS: 3.2, Attempts: 1}
	}
	ev.Status = reactions.StatusSucceeded
	ev.Result = &reactions.Result{EventID: ev.ID, Node: "rm1", Status: reactions.StatusSucceeded, Reaction: "rm1-stopped", StartedAt: now, FinishedAt: now,
		Steps: []reactions.StepResult{st(0, reactions.ActionDisable, "rm1", true), st(1, reactions.ActionEnable, "rm2", false)}}
	if err := j.Finish(ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// finishedAlarm is an alarm event as the HTTP door journals it.
func finishedAlarm(key string, textLen int) *reactions.Event {
	return &reactions.Event{Key: key, Source: reactions.SourceHTTP, Sender: "token:scs", ReceivedAt: time.Now(), Alarm: reactions.Alarm{
		ID: key, Condition: "RM1_Stopped", EventID: "00-04504", Application: "RM_1", Host: "rm1", Severity: "critical",
		Text: strings.Repeat("t", textLen), Labels: map[string]string{"site": "par", "tier": "gvp"},
	}}
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// A flood of events never takes the file far past its budget: the
// commits wake the trimmer by themselves, which prunes the oldest finished
// events and compacts, and the newest events stay. The flood waits for
// the trimmer whenever the live data passes the point where it is woken,
// so that the test does not depend on how fast this disk syncs.
func TestBudgetBoundsTheFile(t *testing.T) {
	const budget = 2 << 20
	path := filepath.Join(t.TempDir(), "j.db")
	j := open(t, path, Options{MaxBytes: budget})
	var last *reactions.Event
	peak, trims := int64(0), 0
	for i := range 800 {
		last = finished(t, j, fmt.Sprintf("flood-%d", i), 6000)
		peak = max(peak, fileSize(t, path))
		sp, err := j.Space()
		if err != nil {
			t.Fatal(err)
		}
		if sp.Live <= budget/4*3 {
			continue
		}
		trims++
		for deadline := time.Now().Add(10 * trimGap); sp.Live > budget/4*3; {
			if time.Now().After(deadline) {
				t.Fatalf("after event %d the live data stayed at %d bytes for %s; the trimmer never ran", i, sp.Live, 10*trimGap)
			}
			time.Sleep(trimGap / 20)
			if sp, err = j.Space(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// bbolt grows a small file by doubling its map: twice the budget is
	// one doubling past it.
	if peak > 2*budget || trims == 0 {
		t.Errorf("file peaked at %d bytes with %d trims, budget %d", peak, trims, budget)
	}
	if _, err := j.Get(last.ID); err != nil {
		t.Errorf("newest event pruned: %v", err)
	}
	sp, err := j.Space()
	if err != nil {
		t.Fatal(err)
	}
	if sp.Events >= 800 || sp.Live > budget {
		t.Errorf("after the flood: %+v; want old events pruned and the live data within %d", sp, budget)
	}
	t.Logf("800 events of ~6 KiB caller data: %d trims, file peaked at %d bytes; now %+v", trims, peak, sp)
}

// Compact gives the free pages back to the file system, keeps every event,
// key and sequence, and leaves a journal that takes new events; a second
// process opening the journal meanwhile never gets it.
func TestCompactReturnsSpace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := open(t, path, Options{})
	var keep []*reactions.Event
	for i := range 600 {
		ev := finished(t, j, fmt.Sprintf("k%d", i), 1000)
		if i >= 500 {
			keep = append(keep, ev)
		}
	}
	if n, err := j.Prune(time.Hour, 100); err != nil || n != 500 {
		t.Fatalf("Prune = %d, %v", n, err)
	}
	grown := fileSize(t, path)
	before, after, err := j.Compact()
	if err != nil {
		t.Fatal(err)
	}
	if got := fileSize(t, path); got >= grown/2 || after >= before {
		t.Errorf("file %d bytes before compaction, %d after (data %d -> %d); want it at least halved", grown, got, before, after)
	}
	if _, err := Open(path, Options{LockTimeout: 50 * time.Millisecond}); err == nil {
		t.Error("a second open of the compacted journal succeeded; want it locked")
	}
	for _, ev := range keep {
		if got, dup, err := j.Accept(&reactions.Event{Key: ev.Key, Sender: ev.Sender, Alarm: ev.Alarm}); err != nil || !dup || got.ID != ev.ID {
			t.Fatalf("key %s after compaction: %v %v %v", ev.Key, got, dup, err)
		}
	}
	next := finished(t, j, "after", 10)
	if !strings.HasSuffix(next.ID, "-000601") {
		t.Errorf("event after compaction is %s; want sequence 601", next.ID)
	}
	j.Close()
	j2 := open(t, path, Options{})
	if evs, err := j2.List(Filter{Limit: 1000}); err != nil || len(evs) != 101 {
		t.Errorf("reopened after compaction: %d events, %v; want 101", len(evs), err)
	}
}

// A journal that let its file go for a compaction and could not take it
// back (another process got the lock in between, possible where the swap
// closes the files) fails every call and Health with the reason, and
// recovers by itself once the file is free.
func TestJournalRecoversWhenItsFileComesBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := open(t, path, Options{LockTimeout: 50 * time.Millisecond})
	kept := finished(t, j, "kept", 100)
	// What swapClosed leaves when its open fails: the file closed, and
	// another holder of the lock.
	j.dbMu.Lock()
	j.db.Close()
	j.db, j.lost = nil, errors.New("held by the test")
	j.dbMu.Unlock()
	other, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Get(kept.ID); err == nil || !strings.Contains(err.Error(), "reopen after compaction") {
		t.Errorf("Get while the file is held elsewhere = %v; want the reopen's failure", err)
	}
	if _, _, err := j.Accept(finishedAlarm("refused", 10)); err == nil {
		t.Error("Accept while the file is held elsewhere succeeded")
	}
	j.health.probed = time.Time{}
	if err := j.Health(); err == nil || !strings.Contains(err.Error(), "reopen after compaction") {
		t.Errorf("Health while the file is held elsewhere = %v; want the reason", err)
	}
	if _, _, err := j.Compact(); err == nil {
		t.Error("Compact while the file is held elsewhere succeeded")
	}
	other.Close()
	if got, err := j.Get(kept.ID); err != nil || got.Key != "kept" {
		t.Fatalf("Get once the file is free = %v, %v", got, err)
	}
	finished(t, j, "after", 10)
	j.health.probed = time.Time{}
	if err := j.Health(); err != nil {
		t.Errorf("Health once the file is free = %v", err)
	}
}
