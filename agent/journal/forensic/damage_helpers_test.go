package forensic

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

var fixtureNow = time.Date(2026, 11, 30, 4, 15, 0, 0, time.UTC)

func fixtureClock() time.Time { return fixtureNow }

func fixtureOutbox(ev *reactions.Event) []journal.Report {
	return []journal.Report{{ID: ev.ID + "/sink", Target: "sink", URL: "http://198.51.100.1/", EventID: ev.ID, Body: []byte(`{"event":"` + ev.ID + `"}`)}}
}

// fixture is a real journal written by the journal's own code.
type fixture struct {
	path string
	// events as stored, oldest first.
	events  []*reactions.Event
	reports []journal.Report
	// unfinished are the IDs of events without a final result.
	unfinished []string
}

// writeFixture journals n alarms: most finished with a result and a report
// (some reports delivered), every tenth left accepted and every tenth but
// one left running, as after a crash. Alarm texts are long enough for the
// events bucket to need branch pages.
func writeFixture(t testing.TB, dir string, n int) fixture {
	t.Helper()
	path := journal.PathIn(dir)
	j, err := Open(path, journal.Options{Node: "rm1", Now: fixtureClock})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for i := range n {
		ev, _, err := j.Accept(&reactions.Event{Key: fmt.Sprintf("alarm-%03d", i), Source: reactions.SourceHTTP, ReceivedAt: fixtureNow,
			Alarm: reactions.Alarm{Condition: "RM stopped unexpectedly", EventID: "00-04504", Application: "RM_1", Host: "rm1",
				Text: strings.Repeat(fmt.Sprintf("Connection to RM_1 lost (%d). ", i), 6)}})
		if err != nil {
			t.Fatal(err)
		}
		switch i % 10 {
		case 9:
			continue
		case 8:
			ev.Status, ev.Runs = reactions.StatusRunning, 1
			if err := j.Update(ev); err != nil {
				t.Fatal(err)
			}
			continue
		}
		ev.Status, ev.Runs = reactions.StatusSucceeded, 1
		ev.Result = &reactions.Result{EventID: ev.ID, Node: "rm1", Status: reactions.StatusSucceeded, StartedAt: fixtureNow, FinishedAt: fixtureNow,
			Steps: []reactions.StepResult{{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm1", Outcome: reactions.OutcomeChanged, StartedAt: fixtureNow}}}
		if err := j.FinishWithReports(ev, fixtureOutbox(ev)); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := j.Reports(journal.ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		if i%3 == 0 {
			rs[i].State, rs[i].Attempts, rs[i].DoneAt = journal.ReportDelivered, 1, fixtureNow
			if err := j.SaveReport(rs[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	f := fixture{path: path}
	if f.events, err = j.List(journal.Filter{Limit: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(f.events)
	if f.reports, err = j.Reports(journal.ReportFilter{}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range f.events {
		if !ev.Status.Final() {
			f.unfinished = append(f.unfinished, ev.ID)
		}
	}
	return f
}

// layout is where a fixture's pages are, found by walking its tree.
type layout struct {
	pageSize int
	hwm      uint64
	root     uint64              // the root bucket's page
	branches map[string][]uint64 // bucket -> branch pages
	leaves   map[string][]uint64 // bucket -> leaf pages
	free     []uint64            // pages below the high water mark that no tree uses
	freelist uint64              // the persisted freelist's page
}

func pageLayout(t testing.TB, path string) layout {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, prob, err := openPages(f)
	if err != nil || prob != nil {
		t.Fatalf("fixture unreadable: %v %v", prob, err)
	}
	m := pf.ordered()[0]
	l := layout{pageSize: pf.pageSize, hwm: m.hwm, root: m.root, branches: map[string][]uint64{}, leaves: map[string][]uint64{}}
	used := map[uint64]bool{0: true, 1: true}
	var walk func(bucket string, id uint64)
	walk = func(bucket string, id uint64) {
		p, err := pf.read(id, m.hwm)
		if err != nil {
			t.Fatalf("fixture page %d: %v", id, err)
		}
		for i := range uint64(p.overflow) + 1 {
			used[id+i] = true
		}
		if p.flags == flagBranch {
			l.branches[bucket] = append(l.branches[bucket], id)
			elems, _ := p.branch()
			for _, e := range elems {
				walk(bucket, e.child)
			}
			return
		}
		l.leaves[bucket] = append(l.leaves[bucket], id)
		elems, _ := p.leaf()
		for _, e := range elems {
			if e.bucket && ne.Uint64(e.value) != 0 {
				walk(string(e.key), ne.Uint64(e.value))
			}
		}
	}
	walk("", m.root)
	if m.freelist != noFreelist {
		// The persisted freelist is in use too.
		p, err := pf.read(m.freelist, m.hwm)
		if err != nil {
			t.Fatalf("fixture freelist page %d: %v", m.freelist, err)
		}
		for i := range uint64(p.overflow) + 1 {
			used[m.freelist+i] = true
		}
		l.freelist = m.freelist
	}
	for id := uint64(2); id < m.hwm; id++ {
		if !used[id] {
			l.free = append(l.free, id)
		}
	}
	return l
}

// overwrite writes n seeded random bytes at off.
func overwrite(t testing.TB, path string, off int64, n int, seed uint64) {
	t.Helper()
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func writeAt(t testing.TB, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func truncate(t testing.TB, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func ids(evs []*reactions.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

// valueOffset is the file offset of the first value in leaf page id.
func valueOffset(t testing.TB, path string, id uint64) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, _, err := openPages(f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pf.read(id, pf.ordered()[0].hwm)
	if err != nil {
		t.Fatal(err)
	}
	e := p.buf[pageHeaderSize:]
	return pf.offset(id) + pageHeaderSize + int64(ne.Uint32(e[4:])+ne.Uint32(e[8:]))
}

// open opens a journal through Open (node rm1 unless o names one), closed
// when the test ends.
func open(t *testing.T, path string, o journal.Options) *journal.Journal {
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
