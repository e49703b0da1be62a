package agent_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// The journal's disk fills up, then turns read-only: intake answers 503
// with a clear error, and nothing is acknowledged that was not stored.
func TestJournalDiskFullAndReadOnly(t *testing.T) {
	agenttest.RequireRoot(t, "to mount a small tmpfs")
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	dir := t.TempDir()
	addr := agenttest.FreeAddr(t)
	cfg := filepath.Join(dir, "vipagent.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(faultConfig, addr, mnt)), 0o600)
	a := agenttest.Start(t, binary, cfg, addr)
	// Leave a few KiB free.
	exec.Command("dd", "if=/dev/zero", "of="+filepath.Join(mnt, "filler"), "bs=4k").Run()
	os.Truncate(filepath.Join(mnt, "filler"), mustSize(t, filepath.Join(mnt, "filler"))-64<<10)

	acked := map[string]bool{}
	refused := 0
	text := strings.Repeat("x", 2000)
	for i := 0; i < 400 && refused < 5; i++ {
		body := fmt.Sprintf(`{"id":"full-%d","condition":"On-v0","text":%q}`, i, text)
		resp, err := http.Post("http://"+addr+"/v1/alarms?wait=0s", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var r map[string]any
		json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		switch resp.StatusCode {
		case 200, 202:
			acked[r["event_id"].(string)] = true
		case 503:
			refused++
			if msg, _ := r["error"].(string); !strings.Contains(msg, "unavailable") || resp.Header.Get("Retry-After") == "" {
				t.Errorf("503 without a clear error: %v", r)
			}
		default:
			t.Fatalf("disk full: status %d: %v", resp.StatusCode, r)
		}
	}
	if refused == 0 {
		t.Fatal("the disk never filled up")
	}
	// Readiness says so while the journal cannot commit, and recovers by
	// itself once there is room.
	if code, body := readyz(t, addr); code != 503 || !strings.Contains(body, "no space left on device") {
		t.Errorf("readyz on a full disk: %d %s; want 503 with the reason", code, body)
	}
	os.Remove(filepath.Join(mnt, "filler"))
	var code int
	var body string
	agenttest.Eventually(t, 10*time.Second, func() bool {
		code, body = readyz(t, addr)
		return code == 200
	}, func() string { return fmt.Sprintf("readyz still %d %s 10s after the disk had room again", code, body) })
	// Every acknowledged alarm survives a crash and runs once there is room.
	a.Kill()
	a = agenttest.Start(t, binary, cfg, addr)
	ids := make([]string, 0, len(acked))
	for id := range acked {
		ids = append(ids, id)
	}
	waitFinal(t, addr, ids)
	a.Kill()

	// A read-only journal: the agent refuses to start and says why. The
	// emergency path still acts (a journal must never be why a VIP stays
	// put), says loudly that nothing was journaled, and leaves a one-line
	// record outside the read-only directory.
	if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount ro: %v %s", err, out)
	}
	code, _, errOut := vipagent(t, "serve", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "read-only file system") {
		t.Errorf("serve on a read-only journal: exit %d: %s", code, errOut)
	}
	// The fake backend keeps its state in the data directory unless told
	// not to; a real backend keeps it on the host.
	roCfg := filepath.Join(dir, "ro.yaml")
	os.WriteFile(roCfg, []byte(strings.ReplaceAll(fmt.Sprintf(faultConfig, addr, mnt), "{delay: 3ms}", "{delay: 3ms, persist: false}")), 0o600)
	code, _, errOut = vipagent(t, "fire", "--condition", "On-v1", "--config", roCfg)
	if code != 0 || !strings.Contains(errOut, "read-only file system") || !strings.Contains(errOut, "WITHOUT the journal") {
		t.Errorf("fire on a read-only journal: exit %d, want 0 with a warning: %s", code, errOut)
	}
	rec, err := os.ReadFile(filepath.Join(filepath.Dir(mnt), "vipagent-unjournaled.log"))
	if err != nil || !strings.Contains(string(rec), `"action":"enable","vip":"v1","outcome":"changed"`) {
		t.Errorf("unjournaled record: %v %s", err, rec)
	}
	t.Logf("%d acknowledged before the disk filled; %d refused with 503", len(acked), refused)
}

func readyz(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func mustSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
