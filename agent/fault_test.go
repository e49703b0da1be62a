package agent_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/journal/forensic"
	"github.com/vipagent/vipagent/reactions"
)

// faultConfig: three fake VIPs whose steps take 3 ms.
var faultConfig = agenttest.FakeVIPs(3, "{delay: 3ms}", "{supersede: false, rate_per_minute: 0}")

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
	var waiting reactions.Event
	agenttest.Eventually(t, 60*time.Second, func() bool {
		for _, id := range ids {
			if _, done := out[id]; done {
				continue
			}
			var ev reactions.Event
			if code := getJSON(t, "http://"+addr+"/v1/events/"+id, &ev); code != 200 {
				t.Fatalf("acknowledged event %s lost: %d", id, code)
			}
			if !ev.Status.Final() {
				waiting = ev
				return false
			}
			out[id] = ev
		}
		return true
	}, func() string { return fmt.Sprintf("event %s never finished (%s)", waiting.ID, waiting.Status) })
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
			cfg, addr := agenttest.WriteConfig(t, faultConfig)
			a := agenttest.Start(t, binary, cfg, addr)
			type alarm struct {
				i         int
				key, body string
			}
			var alarms []alarm
			for i := range 200 {
				if i%5 == 4 {
					r := alarms[rng.IntN(i)] // a repeat of an earlier alarm
					r.i = i
					alarms = append(alarms, r)
					continue
				}
				cond := []string{"On", "Off"}[rng.IntN(2)] + fmt.Sprintf("-v%d", rng.IntN(3))
				alarms = append(alarms, alarm{i, fmt.Sprintf("k%d", i), fmt.Sprintf(`{"id":"k%d","condition":%q}`, i, cond)})
			}
			killAt := 20 + rng.IntN(160)
			var mu sync.Mutex
			acked := map[string]string{} // event ID -> key
			ackedAt := map[int]bool{}    // alarm index -> acknowledged
			// Which life of the agent each request began and ended in: 0
			// before the kill, 1 while it is down, 2 after the restart.
			// Only a request wholly inside a life must have been
			// acknowledged. (A phase, not a time: Windows clocks are coarse
			// enough for two readings to tie.)
			phase := 0
			began, ended := map[int]int{}, map[int]int{}
			var sent sync.WaitGroup
			next := make(chan alarm)
			client := &http.Client{Timeout: 5 * time.Second}
			for range 5 {
				sent.Add(1)
				go func() {
					defer sent.Done()
					for al := range next {
						mu.Lock()
						began[al.i] = phase
						mu.Unlock()
						id, _ := post(client, addr, al.body)
						mu.Lock()
						ended[al.i] = phase
						if id != "" {
							acked[id] = al.key
							ackedAt[al.i] = true
						}
						mu.Unlock()
					}
				}()
			}
			for i, al := range alarms {
				if i == killAt {
					mu.Lock()
					phase = 1
					mu.Unlock()
					a.Kill()
				}
				if i == killAt+10 {
					// Some alarms went nowhere while it was down; now it is back.
					a = agenttest.Start(t, binary, cfg, addr)
					mu.Lock()
					phase = 2
					mu.Unlock()
				}
				next <- al
			}
			close(next)
			sent.Wait()
			// An agent that refused everything would pass every check
			// below: every alarm whose request ran while the agent was
			// certainly up (ended before the kill, or began after the
			// restart) must have been acknowledged. Which requests were in
			// flight at the kill is up to the scheduler, not the index.
			checked := 0
			for _, al := range alarms {
				if began[al.i] != ended[al.i] || began[al.i] == 1 {
					continue
				}
				checked++
				if !ackedAt[al.i] {
					t.Errorf("alarm %d (%s) was sent while the agent was up and not acknowledged", al.i, al.key)
				}
			}
			// At most five requests are in flight at the kill and ten go
			// out while it is down.
			if checked < len(alarms)-15 {
				t.Errorf("only %d of %d alarms ran wholly while the agent was up", checked, len(alarms))
			}
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
			stop(a)
			j, err := forensic.Open(journal.PathIn(filepath.Join(filepath.Dir(cfg), "data")), journal.Options{})
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
