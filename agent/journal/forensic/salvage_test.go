package forensic

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

func TestCheckCountsACleanJournal(t *testing.T) {
	f := writeFixture(t, t.TempDir(), fixtureEvents)
	before, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Check(f.path)
	if err != nil {
		t.Fatal(err)
	}
	want := CheckReport{Path: f.path, Events: len(f.events), Unfinished: len(f.unfinished), Keys: len(f.events), LastActions: 1,
		Reports: len(f.reports), Bytes: int64(len(before)), PageSize: os.Getpagesize()}
	for _, ev := range f.events {
		if ev.Result != nil {
			want.Results++
		}
	}
	for _, r := range f.reports {
		if r.State == journal.ReportPending {
			want.PendingReports++
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(CheckReport{}, "Pages", "TxID")); diff != "" {
		t.Errorf("Check (-want +got):\n%s", diff)
	}
	if !got.Clean() || got.Pages == 0 || got.TxID == 0 {
		t.Errorf("Check: %+v", got)
	}
	after, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Error("Check modified the journal")
	}
	if _, err := Check(filepath.Join(t.TempDir(), "missing.db")); err == nil || errors.Is(err, journal.ErrDamaged) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Check of a missing file: %v", err)
	}
}

func TestSalvageOfACleanJournalCopiesEverything(t *testing.T) {
	f := writeFixture(t, t.TempDir(), fixtureEvents)
	to := journal.PathIn(filepath.Join(t.TempDir(), "new"))
	st, err := Salvage(f.path, to, SalvageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := SalvageStats{Events: Count{Copied: len(f.events)}, Unfinished: len(f.unfinished), Reports: Count{Copied: len(f.reports)},
		Keys: Count{Copied: len(f.events)}, LastActions: Count{Copied: 1}}
	for _, ev := range f.events {
		if ev.Result != nil {
			want.Results++
		}
	}
	for _, r := range f.reports {
		if r.State == journal.ReportPending {
			want.PendingReports++
		}
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	old := open(t, f.path, journal.Options{})
	j := open(t, to, journal.Options{})
	for _, q := range []struct {
		name string
		read func(*journal.Journal) (any, error)
	}{
		{"List", func(j *journal.Journal) (any, error) { return j.List(journal.Filter{Limit: 1000}) }},
		{"Unfinished", func(j *journal.Journal) (any, error) { return j.Unfinished() }},
		{"Reports", func(j *journal.Journal) (any, error) { return j.Reports(journal.ReportFilter{}) }},
		{"PendingReports", func(j *journal.Journal) (any, error) {
			return j.Reports(journal.ReportFilter{State: journal.ReportPending})
		}},
		{"LastActions", func(j *journal.Journal) (any, error) { return j.LastActions() }},
	} {
		w, err1 := q.read(old)
		g, err2 := q.read(j)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", q.name, err1, err2)
		}
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("%s (-original +salvaged):\n%s", q.name, diff)
		}
	}
	if _, err := Salvage(f.path, to, SalvageOptions{}); !errors.Is(err, os.ErrExist) {
		t.Errorf("salvage over an existing journal: %v, want ErrExist", err)
	}
}

// When the tree cannot be read at all, scanning the pages finds the events,
// and an unfinished one is resumed by the engine's Recover (which reads
// Unfinished).
func TestSalvageByScanningPages(t *testing.T) {
	f := writeFixture(t, t.TempDir(), fixtureEvents)
	l := pageLayout(t, f.path)
	overwrite(t, f.path, 0, 2*l.pageSize, 11)
	overwrite(t, f.path, int64(l.root)*int64(l.pageSize), l.pageSize, 12)
	to := journal.PathIn(t.TempDir())
	st, err := Salvage(f.path, to, SalvageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Scanned || st.Events.Copied != len(f.events) || st.Reports.Copied != len(f.reports) || len(st.Problems) == 0 {
		t.Errorf("stats %+v", st)
	}
	j := open(t, to, journal.Options{})
	un, err := j.Unfinished()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.unfinished, ids(un)); diff != "" {
		t.Errorf("unfinished (-want +got):\n%s", diff)
	}
}

// A file of which nothing can be read salvages nothing, says so, and still
// gives a working journal.
func TestSalvageOfNothing(t *testing.T) {
	from := journal.PathIn(t.TempDir())
	if err := os.WriteFile(from, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	to := journal.PathIn(t.TempDir())
	st, err := Salvage(from, to, SalvageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Events.Copied != 0 || len(st.Problems) != 1 || st.Problems[0].What != "truncated to 1 bytes (want a multiple of the page size and at least 4 pages)" {
		t.Errorf("stats %+v", st)
	}
	j := open(t, to, journal.Options{})
	if _, _, err := j.Accept(&reactions.Event{Alarm: reactions.Alarm{Condition: "c"}}); err != nil {
		t.Error(err)
	}
}

// An event finished in the last commit whose page is then damaged comes
// back from the previous commit's tree as running; its report, written in
// the same commit as its final version, shows it finished: it must not be
// resumed (its steps would run a second time), and it keeps the result
// its report carries.
func TestSalvageDoesNotResumeAFinishedEvent(t *testing.T) {
	f := writeFixture(t, t.TempDir(), 40)
	j := open(t, f.path, journal.Options{Node: "rm1", Now: fixtureClock})
	ev, _, err := j.Accept(&reactions.Event{Key: "last", Alarm: reactions.Alarm{Condition: "RM stopped unexpectedly"}})
	if err != nil {
		t.Fatal(err)
	}
	ev.Status, ev.Runs = reactions.StatusRunning, 1
	if err := j.Update(ev); err != nil {
		t.Fatal(err)
	}
	ev.Status = reactions.StatusTimeout
	ev.Result = &reactions.Result{EventID: ev.ID, Node: "rm1", Status: reactions.StatusTimeout, Error: "step 0 timed out"}
	body, _ := json.Marshal(map[string]any{"report_id": ev.ID + ":sink", "result": ev.Result})
	rep := journal.Report{ID: ev.ID + ":sink", Target: "sink", URL: "http://198.51.100.1/", EventID: ev.ID, Body: body}
	if err := j.FinishWithReports(ev, []journal.Report{rep}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	raw, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	l := pageLayout(t, f.path)
	for _, id := range l.leaves["events"] {
		if bytes.Contains(raw[int(id)*l.pageSize:int(id+1)*l.pageSize], []byte(`"key":"last"`)) {
			overwrite(t, f.path, int64(id)*int64(l.pageSize), l.pageSize, 21)
		}
	}

	j, rec, err := OpenOrRecover(f.path, journal.Options{Node: "rm1", Now: recoveryClock})
	if err != nil || rec == nil {
		t.Fatalf("OpenOrRecover: %v, %v", rec, err)
	}
	defer j.Close()
	un, err := j.Unfinished()
	if err != nil {
		t.Fatal(err)
	}
	if ids := ids(un); contains(ids, ev.ID) || len(un) != len(f.unfinished) {
		t.Errorf("unfinished after the salvage: %v, want the fixture's %v without %s", ids, f.unfinished, ev.ID)
	}
	got, err := j.Get(ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != reactions.StatusTimeout || got.Result == nil || got.Result.Error != "step 0 timed out" {
		t.Errorf("settled event: %s %+v, want timeout with the report's result", got.Status, got.Result)
	}
	if rec.Stats.Settled != 1 {
		t.Errorf("Stats.Settled = %d, want 1", rec.Stats.Settled)
	}
}
