package journal

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
)

// Following the cursor from the first page to the last visits every
// selected event once, newest first, whatever the page size and scan
// bound, and with newer events added meanwhile; no page looks at
// more events than its bound.
func TestPagesFollowTheCursor(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j.db"), Options{})
	statuses := []reactions.Status{reactions.StatusSucceeded, reactions.StatusFailed, reactions.StatusUnmatched}
	rng := rand.New(rand.NewPCG(7, 19))
	var all []*reactions.Event // oldest first
	for range 300 {
		ev, _, err := j.Accept(&reactions.Event{Alarm: reactions.Alarm{Condition: "c"}})
		if err != nil {
			t.Fatal(err)
		}
		// A rare status, so that a status filter meets long runs of others.
		ev.Status = statuses[min(rng.IntN(10), 2)%3]
		if err := j.Finish(ev); err != nil {
			t.Fatal(err)
		}
		all = append(all, ev)
	}
	for range 40 {
		f := Filter{Limit: 1 + rng.IntN(40), MaxScan: 1 + rng.IntN(60)}
		if rng.IntN(2) == 0 {
			f.Status = statuses[rng.IntN(3)]
		}
		var want []string
		for _, ev := range slices.Backward(all) {
			if f.Status == "" || ev.Status == f.Status {
				want = append(want, ev.ID)
			}
		}
		var got []string
		for pages := 0; ; pages++ {
			if pages > 400 {
				t.Fatalf("%+v: the cursor never ends", f)
			}
			p, err := j.Page(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Events) > f.Limit || (f.Status != "" && p.Scanned > f.MaxScan) {
				t.Fatalf("%+v: page of %d events, %d scanned", f, len(p.Events), p.Scanned)
			}
			for _, raw := range p.Events {
				var ev reactions.Event
				if err := json.Unmarshal(raw, &ev); err != nil {
					t.Fatal(err)
				}
				got = append(got, ev.ID)
			}
			if p.Next == "" {
				break
			}
			f.Cursor = p.Next
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("filter %+v (-want +got):\n%s", f, diff)
		}
	}
	// A newer event does not shift a listing in progress; a bad cursor is
	// refused.
	p, err := j.Page(Filter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := j.Accept(&reactions.Event{Alarm: reactions.Alarm{Condition: "newer"}}); err != nil {
		t.Fatal(err)
	}
	next, err := j.Page(Filter{Limit: 1, Cursor: p.Next})
	if err != nil || len(next.Events) != 1 {
		t.Fatalf("page after the cursor: %+v %v", next, err)
	}
	var ev reactions.Event
	json.Unmarshal(next.Events[0], &ev)
	if ev.ID != all[len(all)-11].ID {
		t.Errorf("after the first 10 came %s, want %s", ev.ID, all[len(all)-11].ID)
	}
	for _, bad := range []string{"x", "0", "-1"} {
		if _, err := j.Page(Filter{Cursor: bad}); !errors.Is(err, reactions.ErrInvalid) {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
}
