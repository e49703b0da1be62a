package agent_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/journal/forensic"
	"github.com/vipagent/vipagent/reactions"
)

// stormConfig: four fake VIPs, room for the whole storm in flight.
var stormConfig = agenttest.FakeVIPs(4, "", "{supersede: false, rate_per_minute: 0, max_in_flight: 20000}")

// BenchmarkAlarmStorm drives one agent (the real binary, fake backend) with
// 10,000 alarms from 50 concurrent clients, a third of them repeats, and
// reports accepted alarms per second, p50/p99 acceptance latency and the
// agent's peak RSS; then it checks that every distinct event executed
// exactly once. Run it with scripts/bench-storm.sh (-benchtime 1x).
func BenchmarkAlarmStorm(b *testing.B) {
	const total, clients = 10000, 50
	for range b.N {
		dir := b.TempDir()
		addr := agenttest.FreeAddr(b)
		cfg := filepath.Join(dir, "vipagent.yaml")
		if err := os.WriteFile(cfg, fmt.Appendf(nil, stormConfig, addr, filepath.Join(dir, "data")), 0o600); err != nil {
			b.Fatal(err)
		}
		a := agenttest.Start(b, binary, cfg, addr)
		rng := rand.New(rand.NewPCG(1, 2))
		bodies := make([]string, total)
		distinct := 0
		for i := range bodies {
			key := distinct
			if i%3 == 2 {
				key = rng.IntN(distinct) // a repeat
			} else {
				distinct++
			}
			bodies[i] = fmt.Sprintf(`{"id":"storm-%d","condition":"%s-v%d","host":"rm1"}`, key, []string{"On", "Off"}[key%2], key%4)
		}
		lat := make([]time.Duration, total)
		codes := make([]int, total)
		work := make(chan int)
		var wg sync.WaitGroup
		tr := &http.Transport{MaxIdleConnsPerHost: clients}
		client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		b.ResetTimer()
		start := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					t0 := time.Now()
					resp, err := client.Post("http://"+addr+"/v1/alarms?wait=0s", "application/json", strings.NewReader(bodies[i]))
					lat[i] = time.Since(t0)
					if err != nil {
						codes[i] = -1
						continue
					}
					codes[i] = resp.StatusCode
					resp.Body.Close()
				}
			}()
		}
		for i := range total {
			work <- i
		}
		close(work)
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		for i, c := range codes {
			if c != http.StatusOK && c != http.StatusAccepted {
				b.Fatalf("alarm %d: status %d", i, c)
			}
		}
		rss := peakRSS(b, a.Cmd.Process.Pid)
		// Let the executor finish, then stop the agent and read the journal.
		waitIdle(b, addr, distinct)
		a.Cmd.Process.Signal(syscall.SIGTERM)
		a.Wait()
		j, err := forensic.Open(journal.PathIn(filepath.Join(dir, "data")), journal.Options{})
		if err != nil {
			b.Fatal(err)
		}
		evs, err := j.List(journal.Filter{Limit: total})
		j.Close()
		if err != nil {
			b.Fatal(err)
		}
		perKey := map[string]int{}
		for _, ev := range evs {
			perKey[ev.Key]++
			if ev.Status != reactions.StatusSucceeded || ev.Runs != 1 || len(ev.Result.Steps) != 1 {
				b.Fatalf("event %s: %s runs %d", ev.ID, ev.Status, ev.Runs)
			}
		}
		if len(evs) != distinct || len(perKey) != distinct {
			b.Fatalf("%d events for %d distinct alarms", len(evs), distinct)
		}
		slices.Sort(lat)
		b.ReportMetric(float64(total)/elapsed.Seconds(), "alarms/s")
		b.ReportMetric(float64(lat[total/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[total*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
		b.ReportMetric(float64(distinct), "distinct-events")
	}
}

// peakRSS reads the high-water mark of a process's resident memory.
func peakRSS(b *testing.B, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Logf("no /proc: %v", err)
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// waitIdle waits until no event is accepted or running.
func waitIdle(b *testing.B, addr string, want int) {
	agenttest.Eventually(b, 2*time.Minute, func() bool {
		busy := 0
		for _, st := range []string{"accepted", "running"} {
			resp, err := http.Get("http://" + addr + "/v1/events?limit=1&status=" + st)
			if err != nil {
				b.Fatal(err)
			}
			var l struct{ Events []json.RawMessage }
			json.NewDecoder(resp.Body).Decode(&l)
			resp.Body.Close()
			busy += len(l.Events)
		}
		return busy == 0
	}, "events still running")
}
