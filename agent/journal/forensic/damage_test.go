package forensic

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

const fixtureEvents = 40

// Real damage on real journals: Open says what is wrong and where without
// crashing, Check agrees, and OpenOrRecover moves the file aside and
// salvages what it can.
func TestOpenDamagedJournal(t *testing.T) {
	page := func(l layout, id uint64) int64 { return int64(id) * int64(l.pageSize) }
	ps := os.Getpagesize()
	tests := []struct {
		name   string
		damage func(t *testing.T, path string, l layout)
		// want is part of the damage message; "" means no damage.
		want string
		// complete: every event and report comes back as it was.
		complete bool
	}{
		{name: "meta page 0 overwritten", want: "page 0 (offset 0): meta page:", complete: true,
			damage: func(t *testing.T, path string, l layout) { overwrite(t, path, 0, l.pageSize, 1) }},
		{name: "meta page 1 overwritten", want: fmt.Sprintf("page 1 (offset %d): meta page:", ps), complete: true,
			damage: func(t *testing.T, path string, l layout) { overwrite(t, path, page(l, 1), l.pageSize, 2) }},
		{name: "both meta pages overwritten", want: "no valid meta page: bad magic", complete: true,
			damage: func(t *testing.T, path string, l layout) { overwrite(t, path, 0, 2*l.pageSize, 3) }},
		{name: "root bucket page overwritten", want: "page expected to be", complete: true,
			damage: func(t *testing.T, path string, l layout) { overwrite(t, path, page(l, l.root), l.pageSize, 4) }},
		{name: "events branch page overwritten", want: "bucket events: page", complete: true,
			damage: func(t *testing.T, path string, l layout) {
				overwrite(t, path, page(l, l.branches["events"][0]), l.pageSize, 5)
			}},
		{name: "events leaf page overwritten", want: "bucket events: page",
			damage: func(t *testing.T, path string, l layout) {
				overwrite(t, path, page(l, l.leaves["events"][3]), l.pageSize, 6)
			}},
		{name: "outbox leaf page overwritten", want: "bucket outbox: page",
			damage: func(t *testing.T, path string, l layout) {
				overwrite(t, path, page(l, l.leaves["outbox"][1]), l.pageSize, 7)
			}},
		{name: "ids index page overwritten", want: "bucket ids: page", complete: true,
			damage: func(t *testing.T, path string, l layout) {
				overwrite(t, path, page(l, l.leaves["ids"][0]), l.pageSize, 8)
			}},
		{name: "page id in a leaf header changed", want: "identifies as 999",
			damage: func(t *testing.T, path string, l layout) {
				writeAt(t, path, page(l, l.leaves["events"][0]), ne.AppendUint64(nil, 999))
			}},
		{name: "bytes inside an event zeroed", want: "is not valid JSON",
			damage: func(t *testing.T, path string, l layout) {
				writeAt(t, path, valueOffset(t, path, l.leaves["events"][2])+20, make([]byte, 16))
			}},
		{name: "unfinished event of the wrong shape", want: "cannot unmarshal number into Go struct field Event.key",
			damage: func(t *testing.T, path string, l layout) {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				// Valid JSON that Unfinished cannot decode (same length).
				b = bytes.ReplaceAll(b, []byte(`"key":"alarm-008"`), []byte(`"key":12345678901`))
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "free page overwritten is no damage", want: "",
			damage: func(t *testing.T, path string, l layout) { overwrite(t, path, page(l, l.free[0]), l.pageSize, 9) }},
		{name: "truncated to 0 bytes", want: "empty file (0 bytes)",
			damage: func(t *testing.T, path string, l layout) { truncate(t, path, 0) }},
		{name: "truncated to 1 byte", want: "truncated to 1 bytes (want a multiple of the page size and at least 4 pages)",
			damage: func(t *testing.T, path string, l layout) { truncate(t, path, 1) }},
		{name: "truncated to one page", want: fmt.Sprintf("truncated to %d bytes (want a multiple of the page size %[1]d and at least 4 pages)", ps),
			damage: func(t *testing.T, path string, l layout) { truncate(t, path, int64(l.pageSize)) }},
		{name: "truncated mid-page", want: fmt.Sprintf("want a multiple of the page size %d", ps),
			damage: func(t *testing.T, path string, l layout) { truncate(t, path, page(l, l.hwm)-100) }},
		{name: "truncated to half", want: "but its last commit uses",
			damage: func(t *testing.T, path string, l layout) { truncate(t, path, page(l, l.hwm/2)) }},
		{name: "last page cut off", want: "but its last commit uses",
			damage: func(t *testing.T, path string, l layout) { truncate(t, path, page(l, l.hwm-1)) }},
		{name: "random bytes", want: "no valid meta page: bad magic",
			damage: func(t *testing.T, path string, l layout) { truncate(t, path, 0); overwrite(t, path, 0, 64<<10, 10) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := writeFixture(t, t.TempDir(), fixtureEvents)
			tt.damage(t, f.path, pageLayout(t, f.path))
			damaged, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatal(err)
			}

			j, err := Open(f.path, journal.Options{Node: "rm1"})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Open: %v, want no damage", err)
				}
				j.Close()
			} else {
				checkDamageError(t, "Open", f.path, err, tt.want)
			}
			rep, err := Check(f.path)
			if tt.want == "" {
				if err != nil || !rep.Clean() {
					t.Errorf("Check = %+v, %v; want clean", rep, err)
				}
			} else {
				checkDamageError(t, "Check", f.path, err, tt.want)
				if rep.Clean() {
					t.Errorf("Check report lists no problem: %+v", rep)
				}
			}

			j, rec, err := OpenOrRecover(f.path, journal.Options{Node: "rm1", Now: recoveryClock})
			if err != nil {
				t.Fatalf("OpenOrRecover: %v", err)
			}
			defer j.Close()
			if tt.want == "" {
				if rec != nil {
					t.Errorf("recovery of a healthy journal: %v", rec)
				}
				return
			}
			checkRecovery(t, f, j, rec, damaged, tt.complete)
		})
	}
}

// recoveryClock is the time of the recovery, an hour after the events.
func recoveryClock() time.Time { return fixtureNow.Add(time.Hour) }

func checkDamageError(t *testing.T, op, path string, err error, want string) {
	t.Helper()
	if !errors.Is(err, journal.ErrDamaged) || errors.Is(err, journal.ErrLocked) {
		t.Fatalf("%s: %v, want ErrDamaged", op, err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "journal "+path+" is damaged: ") || !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		t.Errorf("%s: %q, want one line naming the file and %q", op, msg, want)
	}
}

// checkRecovery checks what OpenOrRecover did with a damaged fixture.
func checkRecovery(t *testing.T, f fixture, j *journal.Journal, rec *Recovery, damaged []byte, complete bool) {
	t.Helper()
	if rec == nil {
		t.Fatal("no recovery reported for a damaged journal")
	}
	if want := f.path + ".damaged-20261130T051500Z"; rec.DamagedPath != want {
		t.Errorf("damaged file moved to %s, want %s", rec.DamagedPath, want)
	}
	if kept, err := os.ReadFile(rec.DamagedPath); err != nil || !bytes.Equal(kept, damaged) {
		t.Errorf("damaged file not kept as it was: %v", err)
	}
	if !strings.Contains(rec.Reason, "is damaged") || rec.SalvageError != "" || len(rec.Stats.Problems) == 0 || !rec.Stats.Scanned {
		t.Errorf("recovery %+v", rec)
	}
	got, err := j.List(journal.Filter{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	unfinished, err := j.Unfinished()
	if err != nil {
		t.Fatal(err)
	}
	reports, err := j.Reports(journal.ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Stats.Events.Copied != len(got) || rec.Stats.Reports.Copied != len(reports) || rec.Stats.Unfinished != len(unfinished) {
		t.Errorf("stats %+v do not match the new journal: %d events, %d reports, %d unfinished", rec.Stats, len(got), len(reports), len(unfinished))
	}
	if complete {
		if diff := cmp.Diff(f.events, reverse(got)); diff != "" {
			t.Errorf("salvaged events (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(f.reports, reports); diff != "" {
			t.Errorf("salvaged reports (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(f.unfinished, ids(unfinished)); diff != "" {
			t.Errorf("events to resume (-want +got):\n%s", diff)
		}
		want := Count{Copied: fixtureEvents}
		if diff := cmp.Diff(want, rec.Stats.Events); diff != "" {
			t.Errorf("event counts (-want +got):\n%s", diff)
		}
	}
	// Whatever came back is one of ours, and every unfinished event that
	// came back is resumed.
	orig := map[string]*reactions.Event{}
	for _, ev := range f.events {
		orig[ev.ID] = ev
	}
	for _, ev := range got {
		o := orig[ev.ID]
		if o == nil {
			t.Errorf("salvaged an event that never was: %+v", ev)
			continue
		}
		if diff := cmp.Diff(o.Alarm, ev.Alarm); diff != "" {
			t.Errorf("event %s alarm (-want +got):\n%s", ev.ID, diff)
		}
		if !ev.Status.Final() && !contains(ids(unfinished), ev.ID) {
			t.Errorf("unfinished event %s not resumed", ev.ID)
		}
	}
	// The new journal is healthy, takes new events after the old ones,
	// and still knows the salvaged idempotency keys.
	ev, dup, err := j.Accept(&reactions.Event{Key: "after-recovery", Alarm: reactions.Alarm{Condition: "c"}})
	if err != nil || dup {
		t.Fatalf("accept after recovery: %v %v", dup, err)
	}
	if contains(ids(f.events), ev.ID) {
		t.Errorf("new event reuses ID %s", ev.ID)
	}
	for _, old := range got {
		if prev, dup, err := j.Accept(&reactions.Event{Key: old.Key, Alarm: old.Alarm}); err != nil || !dup || prev.ID != old.ID {
			t.Errorf("key %s after recovery: %v %v %v", old.Key, prev, dup, err)
		}
	}
}

func reverse(evs []*reactions.Event) []*reactions.Event {
	out := make([]*reactions.Event, 0, len(evs))
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i])
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Environmental failures are not damage: nothing is moved aside.
func TestOpenEnvironmentalErrorsAreNotDamage(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the journal path
		want  string
		// permissions: the case is made with file permissions, which
		// bind root not; as root it runs as user nobody (see
		// runUnprivileged).
		permissions bool
	}{
		{name: "directory in place of the file", want: "is a directory", setup: func(t *testing.T, dir string) string {
			path := journal.PathIn(dir)
			if err := os.Mkdir(path, 0o750); err != nil {
				t.Fatal(err)
			}
			return path
		}},
		{name: "file in place of the data directory", setup: func(t *testing.T, dir string) string {
			data := filepath.Join(dir, "data")
			if err := os.WriteFile(data, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return journal.PathIn(data)
		}},
		{name: "read-only data directory", want: "permission denied", permissions: true, setup: func(t *testing.T, dir string) string {
			data := filepath.Join(dir, "data")
			if err := os.Mkdir(data, 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(data, 0o700) })
			return journal.PathIn(data)
		}},
		{name: "unreadable journal", want: "permission denied", permissions: true, setup: func(t *testing.T, dir string) string {
			f := writeFixture(t, dir, 3)
			if err := os.Chmod(f.path, 0); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(f.path, 0o600) })
			return f.path
		}},
		{name: "read-only journal", want: "permission denied", permissions: true, setup: func(t *testing.T, dir string) string {
			f := writeFixture(t, dir, 3)
			if err := os.Chmod(f.path, 0o400); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(f.path, 0o600) })
			return f.path
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.permissions {
				if os.Geteuid() == -1 {
					t.Skip("on windows, Unix permission bits do not make files read-only")
				}
				if runUnprivileged(t) {
					return
				}
			}
			dir := t.TempDir()
			path := tt.setup(t, dir)
			before := listDir(t, dir)
			_, err := Open(path, journal.Options{})
			if err == nil || errors.Is(err, journal.ErrDamaged) || errors.Is(err, journal.ErrLocked) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: %v, want an error with %q that is not ErrDamaged", err, tt.want)
			}
			j, rec, err := OpenOrRecover(path, journal.Options{})
			if err == nil || errors.Is(err, journal.ErrDamaged) || rec != nil || j != nil {
				t.Errorf("OpenOrRecover: %v, %v, %v; want the error alone", j, rec, err)
			}
			if diff := cmp.Diff(before, listDir(t, dir)); diff != "" {
				t.Errorf("files changed (-before +after):\n%s", diff)
			}
		})
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// A journal held by another process is locked, not damaged.
func TestLockedJournalIsNotDamage(t *testing.T) {
	f := writeFixture(t, t.TempDir(), 3)
	j := open(t, f.path, journal.Options{})
	_ = j
	if _, _, err := OpenOrRecover(f.path, journal.Options{LockTimeout: 50 * time.Millisecond}); !errors.Is(err, journal.ErrLocked) || errors.Is(err, journal.ErrDamaged) {
		t.Errorf("OpenOrRecover: %v, want ErrLocked", err)
	}
	if _, err := Check(f.path); !errors.Is(err, journal.ErrLocked) {
		t.Errorf("Check: %v, want ErrLocked", err)
	}
	if _, err := Salvage(f.path, filepath.Join(t.TempDir(), "j.db"), SalvageOptions{LockTimeout: 50 * time.Millisecond}); !errors.Is(err, journal.ErrLocked) {
		t.Errorf("Salvage: %v, want ErrLocked", err)
	}
	if _, err := os.Stat(f.path); err != nil {
		t.Errorf("locked journal moved: %v", err)
	}
}

// A journal whose freelist was written to the file (by bbolt without
// NoFreelistSync, as an older agent or a bbolt tool may leave it): bbolt
// reads that page on open, so its damage is found before.
func TestPersistedFreelistDamage(t *testing.T) {
	f := writeFixture(t, t.TempDir(), fixtureEvents)
	db, err := bolt.Open(f.path, 0o600, &bolt.Options{NoFreelistSync: false})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	pf, _, err := openPages(fh)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	freelist := pf.ordered()[0].freelist
	if freelist == noFreelist {
		t.Fatal("bbolt did not write a freelist")
	}
	if _, err := Check(f.path); err != nil {
		t.Fatalf("journal with a freelist: %v", err)
	}
	overwrite(t, f.path, pf.offset(freelist), pf.pageSize, 13)
	damaged, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(f.path, journal.Options{})
	checkDamageError(t, "Open", f.path, err, "freelist: page expected to be")
	j, rec, err := OpenOrRecover(f.path, journal.Options{Node: "rm1", Now: recoveryClock})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	checkRecovery(t, f, j, rec, damaged, true)
}

// Two recoveries in the same second keep both damaged files.
func TestRecoveriesInTheSameSecond(t *testing.T) {
	f := writeFixture(t, t.TempDir(), 3)
	var moved []string
	for range 2 {
		overwrite(t, f.path, 0, 2*os.Getpagesize(), 14)
		j, rec, err := OpenOrRecover(f.path, journal.Options{Now: recoveryClock})
		if err != nil || rec == nil {
			t.Fatalf("OpenOrRecover: %v %v", rec, err)
		}
		j.Close()
		moved = append(moved, rec.DamagedPath)
	}
	want := []string{f.path + ".damaged-20261130T051500Z", f.path + ".damaged-20261130T051500Z-2"}
	if diff := cmp.Diff(want, moved); diff != "" {
		t.Errorf("damaged files (-want +got):\n%s", diff)
	}
}
