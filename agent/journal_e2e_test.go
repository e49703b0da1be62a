package agent_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/reactions"
)

// damage overwrites every page after the two meta pages with a byte
// pattern: the meta pages still look right, the tree they point to is gone.
func damage(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	junk := []byte(strings.Repeat("\xde\xad\xbe\xef", 1024))
	for off := int64(2 * 4096); off < fi.Size(); off += 4096 {
		if _, err := f.WriteAt(junk, off); err != nil {
			t.Fatal(err)
		}
	}
}

// A damaged journal never blocks a failover: the agent moves it aside,
// salvages what it can, starts, and tells (log, /readyz, a reported
// event); `journal check` says what is wrong with the file.
func TestServeRecoversDamagedJournal(t *testing.T) {
	cfg, addr := agenttest.WriteConfig(t, e2eConfig)
	data := filepath.Join(filepath.Dir(cfg), "data")
	a := agenttest.Start(t, binary, cfg, addr)
	for _, id := range []string{"a", "b", "c"} {
		if code, out, errOut := vipagent(t, "fire", "--condition", "RM1_Stopped", "--id", id, "--config", cfg); code != 0 {
			t.Fatalf("fire: exit %d\n%s%s", code, out, errOut)
		}
	}
	a.Kill()
	if code, out, _ := vipagent(t, "journal", "check", "--data", data); code != 0 || !strings.Contains(out, "clean (3 events") {
		t.Fatalf("journal check on a clean journal: exit %d: %s", code, out)
	}
	damage(t, filepath.Join(data, "journal.db"))
	code, out, _ := vipagent(t, "journal", "check", "--data", data)
	if code != 1 || !strings.Contains(out, "DAMAGED") {
		t.Fatalf("journal check on a damaged journal: exit %d, want 1: %s", code, out)
	}

	a = agenttest.Start(t, binary, cfg, addr)
	moved, _ := filepath.Glob(filepath.Join(data, "journal.db.damaged-*"))
	if len(moved) != 1 {
		t.Errorf("damaged file not moved aside: %v", moved)
	}
	var ready map[string]any
	getJSON(t, "http://"+addr+"/readyz", &ready)
	if ready["status"] != "ready" || ready["journal_recovery"] == nil {
		t.Errorf("/readyz: %v", ready)
	}
	var list struct {
		Events []reactions.Event `json:"events"`
	}
	getJSON(t, "http://"+addr+"/v1/events", &list)
	found := false
	for _, ev := range list.Events {
		found = found || (ev.Source == reactions.SourceJournal && ev.Alarm.Condition == "Journal_Recovered")
	}
	if !found {
		t.Errorf("no Journal_Recovered event: %+v", list.Events)
	}
	// The agent goes on: a failover after the recovery runs.
	if code, out, errOut := vipagent(t, "fire", "--condition", "RM1_Stopped", "--id", "d", "--config", cfg); code != 0 {
		t.Errorf("fire after recovery: exit %d\n%s%s", code, out, errOut)
	}
	a.Kill() // the log is complete once the process is gone
	if log := a.Stderr.String(); !strings.Contains(log, "salvage") || strings.Contains(log, "panic") {
		t.Errorf("agent log does not tell about the recovery:\n%s", log)
	}
}

// A one-shot command that finds the journal damaged (no agent running)
// recovers it in-process; the recovery must still be journaled as an
// event, or nobody hears of it: the next agent finds a clean journal.
func TestOneShotRecoveryIsAnnounced(t *testing.T) {
	cfg, addr := agenttest.WriteConfig(t, e2eConfig)
	data := filepath.Join(filepath.Dir(cfg), "data")
	a := agenttest.Start(t, binary, cfg, addr)
	if code, out, errOut := vipagent(t, "fire", "--condition", "RM1_Stopped", "--id", "a", "--config", cfg); code != 0 {
		t.Fatalf("fire: exit %d\n%s%s", code, out, errOut)
	}
	a.Kill()
	damage(t, filepath.Join(data, "journal.db"))

	code, out, errOut := vipagent(t, "fire", "--direct", "--condition", "RM1_Stopped", "--id", "b", "--config", cfg)
	if code != 0 || !strings.Contains(errOut, "recovered") {
		t.Fatalf("fire --direct on a damaged journal: exit %d\n%s%s", code, out, errOut)
	}
	a = agenttest.Start(t, binary, cfg, addr)
	defer a.Kill()
	var list struct {
		Events []reactions.Event `json:"events"`
	}
	getJSON(t, "http://"+addr+"/v1/events", &list)
	n := 0
	for _, ev := range list.Events {
		if ev.Source == reactions.SourceJournal && ev.Alarm.Condition == "Journal_Recovered" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d Journal_Recovered events after a recovery by fire --direct, want 1: %+v", n, list.Events)
	}
}
