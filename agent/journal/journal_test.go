package journal

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
)

func open(t *testing.T, path string, o Options) *Journal {
	t.Helper()
	if o.Node == "" {
		o.Node = "rm1"
	}
	j, err := Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func TestAcceptAndDuplicateKeys(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	a, dup, err := j.Accept(&reactions.Event{Key: "k", Alarm: reactions.Alarm{Condition: "c"}})
	if err != nil || dup || a.ID == "" || a.Status != reactions.StatusAccepted {
		t.Fatalf("first accept: %+v %v %v", a, dup, err)
	}
	b, dup, err := j.Accept(&reactions.Event{Key: "k", Alarm: reactions.Alarm{Condition: "c", Text: "retried"}})
	if err != nil || !dup || b.ID != a.ID || b.Alarm.Text != "" {
		t.Errorf("repeat key: %+v %v %v", b, dup, err)
	}
	if _, _, err := j.Accept(&reactions.Event{Key: "k", Alarm: reactions.Alarm{Condition: "other"}}); !errors.Is(err, reactions.ErrConflict) || !strings.Contains(err.Error(), a.ID) {
		t.Errorf("same key, another alarm: %v; want a conflict naming %s", err, a.ID)
	}
	c, dup, err := j.Accept(&reactions.Event{Alarm: reactions.Alarm{Condition: "c"}})
	if err != nil || dup || c.ID == a.ID {
		t.Errorf("no key: %+v %v %v", c, dup, err)
	}
	if _, _, err := j.Accept(&reactions.Event{Key: "bad\x00key"}); !errors.Is(err, reactions.ErrInvalid) {
		t.Errorf("control character in key: %v", err)
	}
	if _, err := j.Get("nope"); !errors.Is(err, reactions.ErrNotFound) {
		t.Errorf("Get(nope) = %v", err)
	}
}

func TestSurvivesReopenAndLocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(path, Options{Node: "rm1"})
	if err != nil {
		t.Fatal(err)
	}
	ev, _, err := j.Accept(&reactions.Event{Key: "k1", Alarm: reactions.Alarm{Condition: "c"}})
	if err != nil {
		t.Fatal(err)
	}
	// A second process cannot open the same journal.
	if _, err := Open(path, Options{LockTimeout: 50 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Errorf("second open: %v, want ErrLocked", err)
	}
	j.Close()
	j2 := open(t, path, Options{})
	got, err := j2.Get(ev.ID)
	if err != nil || got.Alarm.Condition != "c" {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
	if _, dup, _ := j2.Accept(&reactions.Event{Key: "k1", Alarm: reactions.Alarm{Condition: "c"}}); !dup {
		t.Error("idempotency key forgotten across reopen")
	}
	un, err := j2.Unfinished()
	if err != nil || len(un) != 1 || un[0].ID != ev.ID {
		t.Errorf("unfinished: %+v %v", un, err)
	}
}

func TestFinishWritesResultLastActionAndReports(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	ev, _, _ := j.Accept(&reactions.Event{Alarm: reactions.Alarm{Condition: "c"}})
	reports := func() []Report {
		return []Report{{ID: ev.ID + "/sink", Target: "sink", URL: "http://198.51.100.1/", EventID: ev.ID, Body: []byte(`{}`)}}
	}
	ev.Status = reactions.StatusSucceeded
	ev.Result = &reactions.Result{EventID: ev.ID, Status: reactions.StatusSucceeded, Steps: []reactions.StepResult{
		{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm1", Outcome: reactions.OutcomeChanged},
	}}
	if err := j.FinishWithReports(ev, reports()); err != nil {
		t.Fatal(err)
	}
	// Finishing again (a re-run after a crash) does not duplicate the report.
	if err := j.FinishWithReports(ev, reports()); err != nil {
		t.Fatal(err)
	}
	rs, err := j.Reports(ReportFilter{})
	if err != nil || len(rs) != 1 || rs[0].State != ReportPending || rs[0].ID != ev.ID+"/sink" {
		t.Errorf("reports: %+v %v", rs, err)
	}
	last, err := j.LastActions()
	if err != nil || last["rm-vip"].EventID != ev.ID || last["rm-vip"].Step.Outcome != reactions.OutcomeChanged {
		t.Errorf("last actions: %+v %v", last, err)
	}
	if un, _ := j.Unfinished(); len(un) != 0 {
		t.Errorf("finished event still unfinished")
	}
}

func TestListNewestFirstWithFilter(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	var ids []string
	for i, st := range []reactions.Status{reactions.StatusSucceeded, reactions.StatusFailed, reactions.StatusSucceeded} {
		ev, _, _ := j.Accept(&reactions.Event{Alarm: reactions.Alarm{Condition: string(rune('a' + i))}})
		ev.Status = st
		ev.Result = &reactions.Result{Status: st}
		if err := j.Finish(ev); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	ids2 := func(evs []*reactions.Event) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.ID)
		}
		return out
	}
	all, _ := j.List(Filter{})
	if diff := cmp.Diff([]string{ids[2], ids[1], ids[0]}, ids2(all)); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	ok, _ := j.List(Filter{Status: reactions.StatusSucceeded, Limit: 1})
	if diff := cmp.Diff([]string{ids[2]}, ids2(ok)); diff != "" {
		t.Errorf("List succeeded limit 1 (-want +got):\n%s", diff)
	}
}

func TestPruneKeepsPendingReportsAndUnfinished(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	pending := ""
	j := open(t, filepath.Join(t.TempDir(), "j.db"), Options{Now: clock})
	reportsOf := func(ev *reactions.Event) []Report {
		if ev.Alarm.Condition != "report-me" {
			return nil
		}
		pending = ev.ID
		return []Report{{ID: ev.ID + "/x", EventID: ev.ID, Target: "x", Body: []byte(`{}`)}}
	}
	old := now.Add(-48 * time.Hour)
	var finished []string
	for _, c := range []string{"a", "report-me", "b"} {
		ev, _, _ := j.Accept(&reactions.Event{ReceivedAt: old, Alarm: reactions.Alarm{Condition: c}})
		ev.Status = reactions.StatusSucceeded
		ev.Result = &reactions.Result{Status: reactions.StatusSucceeded}
		if err := j.FinishWithReports(ev, reportsOf(ev)); err != nil {
			t.Fatal(err)
		}
		finished = append(finished, ev.ID)
	}
	running, _, _ := j.Accept(&reactions.Event{ReceivedAt: old, Alarm: reactions.Alarm{Condition: "r"}})
	n, err := j.Prune(24*time.Hour, 1000)
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2", n, err)
	}
	for _, id := range []string{pending, running.ID} {
		if _, err := j.Get(id); err != nil {
			t.Errorf("%s pruned: %v", id, err)
		}
	}
	if _, err := j.Get(finished[0]); !errors.Is(err, reactions.ErrNotFound) {
		t.Errorf("old finished event kept: %v", err)
	}
}

// A "running" mark queued before the result never overwrites it, even when
// nobody waited for the mark.
func TestUpdateAsyncCommitsBeforeLaterWrites(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	for i := range 50 {
		ev, _, err := j.Accept(&reactions.Event{Alarm: reactions.Alarm{Condition: "c"}})
		if err != nil {
			t.Fatal(err)
		}
		ev.Status, ev.Runs = reactions.StatusRunning, 1
		started := j.UpdateAsync(ev)
		done := *ev
		done.Status = reactions.StatusSucceeded
		done.Result = &reactions.Result{Status: reactions.StatusSucceeded}
		if err := j.Finish(&done); err != nil {
			t.Fatal(err)
		}
		if err := <-started; err != nil {
			t.Fatal(err)
		}
		got, err := j.Get(ev.ID)
		if err != nil || got.Status != reactions.StatusSucceeded || got.Runs != 1 {
			t.Fatalf("event %d: %+v %v", i, got, err)
		}
	}
}

// A finished report goes with its event when the event is pruned, even
// when it was delivered too recently for the age rule: the outbox cannot
// outgrow the events it reports on.
func TestPruneTakesThePrunedEventsFinishedReports(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	var reports []Report
	for _, c := range []string{"a", "b"} {
		ev, _, _ := j.Accept(&reactions.Event{ReceivedAt: time.Now(), Alarm: reactions.Alarm{Condition: c}})
		ev.Status = reactions.StatusSucceeded
		rep := Report{ID: ev.ID + "/x", EventID: ev.ID, Target: "x", Body: []byte(`{}`)}
		if err := j.FinishWithReports(ev, []Report{rep}); err != nil {
			t.Fatal(err)
		}
		stored, err := j.GetReport(rep.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored.State, stored.DoneAt = ReportDelivered, time.Now()
		if err := j.SaveReport(stored); err != nil {
			t.Fatal(err)
		}
		reports = append(reports, stored)
	}
	if n, err := j.Prune(24*time.Hour, 1); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want the older event pruned", n, err)
	}
	if _, err := j.GetReport(reports[0].ID); !errors.Is(err, reactions.ErrNotFound) {
		t.Errorf("the pruned event's delivered report: %v; want it pruned", err)
	}
	if _, err := j.GetReport(reports[1].ID); err != nil {
		t.Errorf("the kept event's report: %v", err)
	}
}
