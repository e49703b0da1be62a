package journal

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
)

// An emergency run's records say where each step ran and which event the
// peer ran it as; `journal salvage` rebuilds the events from them, once.
func TestUnjournaledRecordsImport(t *testing.T) {
	at := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	failover := &reactions.Event{ID: "rm1-emergency-0a1b2c3d-20261207T040000-000001", Node: "rm1", Source: reactions.SourceFailover,
		Alarm: reactions.Alarm{Condition: "failover-enable"}, Status: reactions.StatusSucceeded,
		Result: &reactions.Result{Status: reactions.StatusSucceeded, Steps: []reactions.StepResult{
			{Index: 0, Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm2", Outcome: reactions.OutcomeChanged, PeerEvent: "rm2-20261207T040000-000042", StartedAt: at},
			{Index: 1, Action: reactions.ActionEnable, VIP: "rm-vip", Node: "rm1", Outcome: reactions.OutcomeChanged, StartedAt: at.Add(time.Second)},
		}}}
	expired := &reactions.Event{ID: "rm1-emergency-9f8e7d6c-20261207T040100-000001", Node: "rm1", Source: reactions.SourceCLI,
		Alarm: reactions.Alarm{Condition: "RM1_Stopped"}, Status: reactions.StatusExpired,
		Result: &reactions.Result{Status: reactions.StatusExpired, Error: "the caller's deadline passed", Steps: []reactions.StepResult{}}}

	recs := UnjournaledRecords(failover, os.ErrPermission)
	if len(recs) != 2 || recs[0].Node != "rm2" || recs[0].PeerEvent != "rm2-20261207T040000-000042" || recs[1].Node != "rm1" ||
		recs[0].EventID != failover.ID || recs[0].EventNode != "rm1" || recs[0].JournalError == "" {
		t.Fatalf("records of a failover whose disable ran on rm2: %+v", recs)
	}
	data := t.TempDir()
	for _, ev := range []*reactions.Event{failover, expired} {
		for _, r := range UnjournaledRecords(ev, os.ErrPermission) {
			if _, err := AppendUnjournaled(data, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	j, err := Open(PathIn(t.TempDir()), Options{Node: "rm1"})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for i, want := range []ImportStats{{Events: 2}, {Already: 2}} {
		f, err := os.Open(filepath.Join(data, UnjournaledFile))
		if err != nil {
			t.Fatal(err)
		}
		st, err := j.ImportUnjournaled(f)
		f.Close()
		if err != nil || st != want {
			t.Errorf("import %d: %+v, %v; want %+v", i+1, st, err, want)
		}
	}
	got, err := j.Get(failover.ID)
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		Node, PeerEvent string
		Action          reactions.Action
		Outcome         reactions.Outcome
	}
	var steps []step
	for _, s := range got.Result.Steps {
		steps = append(steps, step{s.Node, s.PeerEvent, s.Action, s.Outcome})
	}
	want := []step{{"rm2", "rm2-20261207T040000-000042", reactions.ActionDisable, reactions.OutcomeChanged}, {"rm1", "", reactions.ActionEnable, reactions.OutcomeChanged}}
	if diff := cmp.Diff(want, steps); diff != "" || got.Status != reactions.StatusSucceeded || got.Source != reactions.SourceFailover {
		t.Errorf("imported %s: %s from %s, steps (-want +got):\n%s", got.ID, got.Status, got.Source, diff)
	}
	if got, err := j.Get(expired.ID); err != nil || got.Status != reactions.StatusExpired || got.Result.Error == "" {
		t.Errorf("imported step-less event: %+v, %v", got, err)
	}
	last, err := j.LastActions()
	if err != nil || last["rm-vip"].EventID != failover.ID {
		t.Errorf("last action of rm-vip after the import: %+v, %v", last, err)
	}
}

func TestAppendUnjournaled(t *testing.T) {
	rec := UnjournaledRecord{Time: time.Date(2026, 11, 30, 4, 15, 0, 0, time.UTC), Node: "rm2", Source: reactions.SourceFailover, Action: reactions.ActionEnable,
		VIP: "rm-vip", Outcome: reactions.OutcomeChanged, JournalError: "open journal: read-only file system"}
	tests := []struct {
		name  string
		setup func(t *testing.T, base string) (dataDir, want string)
	}{
		{"in the data directory", func(t *testing.T, base string) (string, string) {
			data := filepath.Join(base, "data")
			os.Mkdir(data, 0o750)
			return data, filepath.Join(data, "unjournaled.log")
		}},
		{"beside a missing data directory", func(t *testing.T, base string) (string, string) {
			return filepath.Join(base, "data"), filepath.Join(base, "vipagent-unjournaled.log")
		}},
		{"beside a data directory whose file is in the way", func(t *testing.T, base string) (string, string) {
			data := filepath.Join(base, "data")
			os.MkdirAll(filepath.Join(data, "unjournaled.log"), 0o750)
			return data, filepath.Join(base, "vipagent-unjournaled.log")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir, want := tt.setup(t, t.TempDir())
			for range 2 {
				path, err := AppendUnjournaled(dataDir, rec)
				if err != nil || path != want {
					t.Fatalf("AppendUnjournaled = %q, %v; want %q", path, err, want)
				}
			}
			fh, err := os.Open(want)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			var got []UnjournaledRecord
			sc := bufio.NewScanner(fh)
			for sc.Scan() {
				var r UnjournaledRecord
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("line %q: %v", sc.Text(), err)
				}
				got = append(got, r)
			}
			if diff := cmp.Diff([]UnjournaledRecord{rec, rec}, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}
