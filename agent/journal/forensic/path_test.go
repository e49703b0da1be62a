package forensic

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/journal"
)

// TestJournalOnALongNonASCIIPath: a data_dir such as
// C:\ProgramData\Génésys\données\... deeper than Windows' classic 260
// characters holds a journal like any other: it is created, locked against
// a second opener, closed and opened again with every event in it.
func TestJournalOnALongNonASCIIPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Génésys données 名前")
	for len(dir) < 280 {
		dir = filepath.Join(dir, "répertoire "+strings.Repeat("x", 20))
	}
	f := writeFixture(t, dir, 5)
	j := open(t, f.path, journal.Options{})
	if _, err := Open(f.path, journal.Options{LockTimeout: 100 * time.Millisecond}); !errors.Is(err, journal.ErrLocked) {
		t.Errorf("second Open = %v, want ErrLocked", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j, rec, err := OpenOrRecover(f.path, journal.Options{Node: "rm1"})
	if err != nil || rec != nil {
		t.Fatalf("OpenOrRecover = %v, %v; want the journal as it was", rec, err)
	}
	defer j.Close()
	evs, err := j.List(journal.Filter{})
	if err != nil || len(evs) != 5 {
		t.Fatalf("List = %d events, %v; want 5", len(evs), err)
	}
}
