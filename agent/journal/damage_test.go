package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/reactions"
)

// Damage that appears while the journal is open (the file truncated under
// the agent) gives errors, not a crash of the process.
func TestReadsOfAFileDamagedWhileOpenReturnErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := open(t, path, Options{})
	for i := range 40 {
		ev, _, err := j.Accept(&reactions.Event{Alarm: reactions.Alarm{Condition: "c", Text: strings.Repeat(fmt.Sprintf("text %d. ", i), 100)}})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			continue
		}
		ev.Status = reactions.StatusSucceeded
		if err := j.FinishWithReports(ev, []Report{{ID: ev.ID + "/sink", Target: "sink", EventID: ev.ID, Body: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Truncate(path, 4*int64(os.Getpagesize())); err != nil {
		t.Skipf("cannot truncate a mapped file on this system (windows locks it): %v", err)
	}
	if _, err := j.Unfinished(); !errors.Is(err, ErrDamaged) {
		t.Errorf("Unfinished: %v, want ErrDamaged", err)
	}
	if _, err := j.Reports(ReportFilter{State: ReportPending}); !errors.Is(err, ErrDamaged) {
		t.Errorf("PendingReports: %v, want ErrDamaged", err)
	}
	if _, err := j.List(Filter{}); !errors.Is(err, ErrDamaged) {
		t.Errorf("List: %v, want ErrDamaged", err)
	}
}
