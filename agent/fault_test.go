package agent_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

const faultConfig = `
node: rm1
listen: %s
data_dir: %s
nodes:
  rm1: {member_id: 1}
vips:
  v0: {address: 192.0.2.10/24, interface: eth0, backend: fake, options: {delay: 3ms}}
  v1: {address: 192.0.2.11/24, interface: eth0, backend: fake, options: {delay: 3ms}}
  v2: {address: 192.0.2.12/24, interface: eth0, backend: fake, options: {delay: 3ms}}
reactions:
  - {name: on-v0, match: {condition: On-v0}, steps: [{enable: v0}]}
  - {name: off-v0, match: {condition: Off-v0}, steps: [{disable: v0}]}
  - {name: on-v1, match: {condition: On-v1}, steps: [{enable: v1}]}
  - {name: off-v1, match: {condition: Off-v1}, steps: [{disable: v1}]}
  - {name: on-v2, match: {condition: On-v2}, steps: [{enable: v2}]}
  - {name: off-v2, match: {condition: Off-v2}, steps: [{disable: v2}]}
limits: {supersede: false, rate_per_minute: 0}
log: {format: json, level: warn}
`

// post sends an alarm without waiting; it returns the event ID when the
// agent acknowledged it (200 or 202), "" when it did not.
func post(client *http.Client, addr, body string) (string, int) {
	resp, err := client.Post("http://"+addr+"/v1/alarms?wait=0s", "application/json", strings.NewReader(body))
	if err != nil {
		return "", 0
	}
	defer resp.Body.Close()
	var r struct {
		EventID string `json:"event_id"`
	}
	json.NewDecoder(resp.Body).Decode(&r)
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusAccepted {
		return r.EventID, resp.StatusCode
	}
	return "", resp.StatusCode
}

func waitFinal(t *testing.T, addr string, ids []string) map[string]reactions.Event {
	t.Helper()
	out := map[string]reactions.Event{}
	deadline := time.Now().Add(60 * time.Second)
	for _, id := range ids {
		for {
			var ev reactions.Event
			code := getJSON(t, "http://"+addr+"/v1/events/"+id, &ev)
			if code != 200 {
				t.Fatalf("acknowledged event %s lost: %d", id, code)
			}
			if ev.Status.Final() {
				out[id] = ev
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("event %s never finished (%s)", id, ev.Status)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return out
}

// SIGKILL the agent at a random point while 200 alarms (some repeated)
// arrive from several clients; after a restart every acknowledged event has
// exactly one final result, each key exactly one event, and each VIP the
// state its last event left.
func TestKillAtRandomPoints(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, seed))
			cfg, addr := writeConfig(t, faultConfig)
			a := startAgent(t, cfg, addr)
			type alarm struct{ key, body string }
			var alarms []alarm
			for i := range 200 {
				k := i
				if i%5 == 4 {
					k = rng.IntN(i) // a repeat of an earlier key
				}
				cond := []string{"On", "Off"}[rng.IntN(2)] + fmt.Sprintf("-v%d", rng.IntN(3))
				alarms = append(alarms, alarm{fmt.Sprintf("k%d", k), fmt.Sprintf(`{"id":"k%d","condition":%q}`, k, cond)})
			}
			killAt := 20 + rng.IntN(160)
			var mu sync.Mutex
			acked := map[string]string{} // event ID -> key
			var sent sync.WaitGroup
			next := make(chan alarm)
			client := &http.Client{Timeout: 5 * time.Second}
			for range 5 {
				sent.Add(1)
				go func() {
					defer sent.Done()
					for al := range next {
						if id, _ := post(client, addr, al.body); id != "" {
							mu.Lock()
							acked[id] = al.key
							mu.Unlock()
						}
					}
				}()
			}
			for i, al := range alarms {
				if i == killAt {
					a.kill()
				}
				if i == killAt+10 {
					// Some alarms went nowhere while it was down; now it is back.
					a = startAgent(t, cfg, addr)
				}
				next <- al
			}
			close(next)
			sent.Wait()
			ids := make([]string, 0, len(acked))
			for id := range acked {
				ids = append(ids, id)
			}
			final := waitFinal(t, addr, ids)
			for id, ev := range final {
				if ev.Result == nil || ev.Status != reactions.StatusSucceeded {
					t.Errorf("event %s: %s %+v", id, ev.Status, ev.Result)
				}
			}
			// Observe the VIPs through the agent, then stop it and read the journal.
			var vips struct {
				VIPs []struct {
					Name  string             `json:"name"`
					State reactions.VIPState `json:"state"`
				} `json:"vips"`
			}
			getJSON(t, "http://"+addr+"/v1/vips", &vips)
			a.cmd.Process.Signal(syscall.SIGTERM)
			a.cmd.Wait()
			j, err := journal.Open(filepath.Join(filepath.Dir(cfg), "data", "journal.db"), journal.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			evs, err := j.List(journal.Filter{Limit: 10000})
			if err != nil {
				t.Fatal(err)
			}
			perKey := map[string]int{}
			last := map[string]reactions.StepResult{}
			for _, ev := range evs {
				perKey[ev.Key]++
				if !ev.Status.Final() {
					t.Errorf("event %s left %s", ev.ID, ev.Status)
					continue
				}
				for _, s := range ev.Result.Steps {
					if l, ok := last[s.VIP]; !ok || s.StartedAt.After(l.StartedAt) {
						last[s.VIP] = s
					}
				}
			}
			for k, n := range perKey {
				if n != 1 {
					t.Errorf("key %s has %d events", k, n)
				}
			}
			for _, v := range vips.VIPs {
				if l, ok := last[v.Name]; ok && l.After != nil && l.After.Present != v.State.Present {
					t.Errorf("vip %s is present=%v but its last step left present=%v", v.Name, v.State.Present, l.After.Present)
				}
			}
			t.Logf("killed after %d alarms; %d acknowledged, %d events journaled", killAt, len(acked), len(evs))
		})
	}
}

func TestGracefulShutdown(t *testing.T) {
	body := strings.Replace(faultConfig, "delay: 3ms}}\n  v1", "delay: 800ms}}\n  v1", 1)
	cfg, addr := writeConfig(t, body)
	a := startAgent(t, cfg, addr)
	id, code := post(http.DefaultClient, addr, `{"condition":"On-v0"}`)
	if code != http.StatusAccepted {
		t.Fatalf("slow alarm: %d", code)
	}
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	a.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(100 * time.Millisecond)
	// Intake is closed while the running step finishes.
	if _, code := post(http.DefaultClient, addr, `{"condition":"On-v1"}`); code != http.StatusServiceUnavailable {
		t.Errorf("alarm during shutdown: %d, want 503", code)
	}
	if err := a.cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, a.stderr)
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("stopped after %s: the running step was not allowed to finish", d)
	}
	a = startAgent(t, cfg, addr)
	ev := waitFinal(t, addr, []string{id})[id]
	if ev.Status != reactions.StatusSucceeded || ev.Runs != 1 {
		t.Errorf("event after graceful stop: %s runs %d", ev.Status, ev.Runs)
	}
}

func TestSecondSignalExitsAtOnce(t *testing.T) {
	body := strings.Replace(faultConfig, "delay: 3ms}}\n  v1", "hang: true}}\n  v1", 1)
	body += "step_timeout: 1m\n"
	cfg, addr := writeConfig(t, body)
	a := startAgent(t, cfg, addr)
	id, _ := post(http.DefaultClient, addr, `{"condition":"On-v0"}`)
	time.Sleep(100 * time.Millisecond)
	a.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	a.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("second SIGTERM did not end the agent")
	}
	t.Logf("exited %s after the second signal", time.Since(start))
	// The interrupted event is still in the journal and runs again.
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cfg, []byte(strings.Replace(string(data), "hang: true", "delay: 1ms", 1)), 0o600)
	a = startAgent(t, cfg, addr)
	ev := waitFinal(t, addr, []string{id})[id]
	if ev.Status != reactions.StatusSucceeded || ev.Runs != 2 {
		t.Errorf("after restart: %s runs %d", ev.Status, ev.Runs)
	}
}

// needRoot skips outside CI when not root, and fails in CI.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this test needs root (mount); CI runs as root")
	}
	t.Skip("needs root to mount a small tmpfs (set CI=true to make this a failure)")
}

// The journal's disk fills up, then turns read-only: intake answers 503
// with a clear error, and nothing is acknowledged that was not stored.
func TestJournalDiskFullAndReadOnly(t *testing.T) {
	needRoot(t)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	dir := t.TempDir()
	addr := freePort(t)
	cfg := filepath.Join(dir, "vipagent.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(faultConfig, addr, mnt)), 0o600)
	a := startAgent(t, cfg, addr)
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
	// Every acknowledged alarm survives a crash and runs once there is room.
	a.kill()
	os.Remove(filepath.Join(mnt, "filler"))
	a = startAgent(t, cfg, addr)
	ids := make([]string, 0, len(acked))
	for id := range acked {
		ids = append(ids, id)
	}
	waitFinal(t, addr, ids)
	a.kill()

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

func mustSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
