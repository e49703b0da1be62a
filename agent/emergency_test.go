package agent_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/journal"
)

// With the journal unusable (held by a hung agent), two emergency
// `failover enable 1` runs on rm1 each leave true records: every step
// with the node it ran on (the disable on rm2, which is down, is rm2's),
// an event ID of the emergency path's own that no other run repeats; and
// `journal salvage` imports them into the journal once it is free.
func TestEmergencyRecordsAreTrue(t *testing.T) {
	cfgBody := strings.Replace(e2eConfig, "  rm1: {member_id: 1, host: rm1, rm_application: RM_1}",
		"  rm1: {member_id: 1, host: rm1, rm_application: RM_1}\n  rm2: {member_id: 2, url: 'http://127.0.0.1:1', token: 'peer-token-0123456789abcdef'}", 1)
	cfgBody += "failover: {vips: [rm-vip]}\n"
	cfg, _ := agenttest.WriteConfig(t, cfgBody)
	other := agenttest.FreeAddr(t)
	holder := agenttest.Start(t, binary, cfg, other, "--listen", other)
	for range 2 {
		code, out, errOut := vipagent(t, "failover", "enable", "1", "--config", cfg, "--wait", "5s")
		if !strings.Contains(errOut, "NOT journaled") {
			t.Fatalf("emergency run: exit %d\n%s%s", code, out, errOut)
		}
	}
	logPath := filepath.Join(filepath.Dir(cfg), "data", journal.UnjournaledFile)
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	var onRM2 int
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r journal.UnjournaledRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		if !strings.HasPrefix(r.EventID, "rm1-emergency-") || r.EventNode != "rm1" {
			t.Errorf("record of event %q by %q: want an rm1-emergency- ID of rm1's", r.EventID, r.EventNode)
		}
		ids[r.EventID] = true
		if r.Action == "disable" {
			if r.Node != "rm2" {
				t.Errorf("the disable on rm2 recorded as run on %q: %s", r.Node, line)
			}
			onRM2++
		}
	}
	if len(ids) != 2 || onRM2 != 2 {
		t.Errorf("two emergency runs recorded %d distinct events and %d disables on rm2, want 2 and 2:\n%s", len(ids), onRM2, data)
	}

	holder.Kill()
	code, out, errOut := vipagent(t, "journal", "salvage", "--from", logPath, "--config", cfg)
	if code != 0 || !strings.Contains(out, "2 events added") {
		t.Fatalf("journal salvage of the records: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = vipagent(t, "events", "list", "--config", cfg, "--direct")
	for id := range ids {
		if !strings.Contains(out, id) {
			t.Errorf("events list after the import lacks %s: exit %d\n%s%s", id, code, out, errOut)
		}
	}
}
