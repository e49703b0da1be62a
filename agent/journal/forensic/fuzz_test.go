package forensic

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

// FuzzOpenDamaged damages a real journal file (bytes patched at an offset,
// then optionally truncated) and opens it: never a panic or a fault; either
// the journal is healthy, or Check and OpenOrRecover agree it is damaged
// and the recovery gives a working, clean journal.
func FuzzOpenDamaged(f *testing.F) {
	base, err := os.ReadFile(writeFixture(f, f.TempDir(), 12).path)
	if err != nil {
		f.Fatal(err)
	}
	ps := uint32(os.Getpagesize())
	f.Add(uint32(0), []byte{0xff}, uint32(0))
	f.Add(ps+16, []byte{1}, uint32(0))
	f.Add(3*ps, bytes.Repeat([]byte{0}, 64), uint32(0))
	f.Add(5*ps+40, []byte("\x00\x00\xff\xff"), uint32(0))
	f.Add(uint32(0), []byte(nil), 4*ps)
	f.Add(uint32(0), []byte(nil), 6*ps+17)
	f.Add(2*ps, []byte("garbage"), uint32(1))
	f.Fuzz(func(t *testing.T, off uint32, patch []byte, size uint32) {
		b := bytes.Clone(base)
		if len(patch) > 0 {
			copy(b[int(off)%len(b):], patch)
		}
		if size > 0 {
			b = b[:int(size)%(len(b)+1)]
		}
		path := journal.PathIn(t.TempDir())
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, checkErr := Check(path)
		if checkErr != nil && !errors.Is(checkErr, journal.ErrDamaged) {
			t.Fatalf("Check: %v", checkErr)
		}
		if (checkErr == nil) != rep.Clean() {
			t.Errorf("Check: %v with report %+v", checkErr, rep)
		}
		j, rec, err := OpenOrRecover(path, journal.Options{Node: "rm1", Now: recoveryClock})
		if err != nil {
			t.Fatalf("OpenOrRecover: %v", err)
		}
		defer j.Close()
		if (rec != nil) != (checkErr != nil) {
			t.Errorf("Check says %v, OpenOrRecover recovered %v", checkErr, rec)
		}
		if _, err := j.Unfinished(); err != nil {
			t.Errorf("Unfinished: %v", err)
		}
		if _, err := j.Reports(journal.ReportFilter{State: journal.ReportPending}); err != nil {
			t.Errorf("PendingReports: %v", err)
		}
		if _, _, err := j.Accept(&reactions.Event{Key: "fuzz", Alarm: reactions.Alarm{Condition: "c"}}); err != nil {
			t.Errorf("Accept: %v", err)
		}
		j.Close()
		if rep, err := Check(path); err != nil {
			t.Errorf("journal after OpenOrRecover: %v (%+v)", err, rep)
		}
	})
}
