package agent_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/sign"
)

// The siege lab (scripts/siege.sh): hostile clients against a real agent
// while a legitimate one keeps firing alarms and failovers.
var siegeSeconds = flag.Int("siege.seconds", 0, "run TestSiege for this many seconds (scripts/siege.sh)")

const siegeConfig = `
node: rm1
listen: %[1]s
data_dir: %[2]s
nodes:
  rm1: {member_id: 1}
vips:
  rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake, options: {initial: present}}
failover: {vips: [rm-vip]}
reactions:
  - {name: rm1-stopped, match: {condition: RM1_Stopped}, steps: [{disable: rm-vip}]}
auth:
  tokens:
    - {name: scs, role: trigger, token: "siege-trigger-token-0123456789"}
    - {name: oncall, role: admin, token: "siege-admin-token-0123456789a"}
    - {name: stranger, role: trigger, token: "siege-attacker-token-012345678"}
    - {name: grafana, role: read, token: "siege-read-token-0123456789ab"}
  webhook_secret: "siege-webhook-secret-0123456789"
log: {format: json, level: error}
`

const (
	siegeAttackerToken = "siege-attacker-token-012345678"
	siegeReadToken     = "siege-read-token-0123456789ab"
	siegeSecret        = "siege-webhook-secret-0123456789"
)

// Pass marks of the siege.
const (
	siegeMaxP99 = time.Second
	siegeMaxRSS = 256 << 20
)

// TestSiege runs every attacker of the siege at once against the real
// binary for -siege.seconds, while a legitimate client runs `vipagent fire`
// and `vipagent failover` every second. It fails when a legitimate call
// fails, their p99 exceeds 1 s or the agent's peak RSS exceeds 256 MiB.
func TestSiege(t *testing.T) {
	if *siegeSeconds <= 0 {
		t.Skip("siege: run it with scripts/siege.sh (-siege.seconds not set)")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	// The unique-key flood writes into a small journal: a 16 MiB tmpfs.
	if err := syscall.Mount("tmpfs", data, "tmpfs", 0, "size=16m,mode=0700"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("siege: mount a 16 MiB tmpfs for the journal (needs root): %v", err)
		}
		t.Logf("siege: no tmpfs for the journal (needs root: %v); using a plain data dir", err)
	} else {
		t.Cleanup(func() { _ = syscall.Unmount(data, syscall.MNT_DETACH) })
	}
	addr := agenttest.FreeAddr(t)
	cfg := filepath.Join(dir, "vipagent.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, siegeConfig, addr, data), 0o600); err != nil {
		t.Fatal(err)
	}
	agent := agenttest.Start(t, binary, cfg, addr)

	legit := [][]string{
		{"fire", "--condition", "RM1_Stopped", "--config", cfg},
		{"failover", "enable", "1", "--config", cfg},
	}
	// The same calls before the siege, for comparison: on a loaded machine
	// process start alone can take hundreds of milliseconds.
	var base []time.Duration
	for range 3 {
		for _, args := range legit {
			start := time.Now()
			if code, out, errOut := vipagent(t, args...); code != 0 {
				t.Fatalf("%s before the siege: exit %d\n%s%s", args[0], code, out, errOut)
			}
			base = append(base, time.Since(start))
		}
	}
	slices.Sort(base)
	fmt.Printf("siege: before the siege, legitimate calls took %d–%d ms\n", base[0].Milliseconds(), base[len(base)-1].Milliseconds())

	// The attackers stand for remote clients: the CPU their own loops take
	// on this machine is not the agent's to defend, so this process (and
	// with it the attackers) runs at nice 10, and each legitimate call is
	// put back at the agent's priority as soon as it starts.
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, 0, 10); err != nil {
		t.Logf("siege: attackers at normal priority (renice: %v)", err)
	}
	defer syscall.Setpriority(syscall.PRIO_PROCESS, 0, 0)

	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(*siegeSeconds)*time.Second)
	defer cancel()
	var attacks atomic.Int64
	var wg sync.WaitGroup
	run := func(n int, attacker func(ctx context.Context, attacks *atomic.Int64, addr string)) {
		for range n {
			wg.Go(func() { attacker(ctx, &attacks, addr) })
		}
	}
	run(2, nestingBombs)
	run(50, slowSignedBodies)
	run(20, unreadLargeResponses)
	run(4, junkTokens)
	run(4, connectionFlood)
	run(2, uniqueKeys)

	var lat, control []time.Duration
	var failed []string
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
		case <-tick.C:
			// Control: a call that needs no agent, to tell the machine's
			// load from the agent's answer time.
			start := time.Now()
			if code, _, _ := legitimate(t, "version"); code == 0 {
				control = append(control, time.Since(start))
			}
			for _, args := range legit {
				start := time.Now()
				code, out, errOut := legitimate(t, args...)
				took := time.Since(start)
				lat = append(lat, took)
				if took > siegeMaxP99/2 {
					t.Logf("slow legitimate call (%s): %s: %s", took, strings.Join(args[:2], " "), strings.TrimSpace(errOut))
				}
				if code != 0 {
					failed = append(failed, fmt.Sprintf("%s: exit %d\n%s%s", strings.Join(args[:2], " "), code, out, errOut))
				}
			}
			continue
		}
		break
	}
	cancel()
	wg.Wait()
	rss := peakRSSOf(t, agent.Cmd.Process.Pid)
	slices.Sort(lat)
	var p99 time.Duration
	if len(lat) > 0 {
		p99 = lat[(len(lat)*99+99)/100-1]
	}
	slices.Sort(control)
	if len(control) > 0 {
		fmt.Printf("siege: control (vipagent version, no agent involved) during the siege: p99 %d ms\n", control[(len(control)*99+99)/100-1].Milliseconds())
	}
	fmt.Printf("siege: %d attack requests, %d legitimate, %d legitimate failed, p99 %d legitimate ms, peak RSS %d MiB\n",
		attacks.Load(), len(lat), len(failed), p99.Milliseconds(), rss>>20)
	for _, f := range failed[:min(len(failed), 5)] {
		t.Errorf("legitimate call failed: %s", f)
	}
	if len(lat) == 0 {
		t.Error("no legitimate call was made")
	}
	if p99 > siegeMaxP99 {
		t.Errorf("p99 of legitimate calls %s, want at most %s", p99, siegeMaxP99)
	}
	if rss > siegeMaxRSS {
		t.Errorf("peak RSS %d MiB, want at most %d MiB", rss>>20, siegeMaxRSS>>20)
	}
}

// legitimate runs the CLI like vipagent does, at the priority the agent
// runs at rather than the attackers'.
func legitimate(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, cmd.Process.Pid, 0)
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// peakRSSOf reads the high-water mark of a process's resident memory.
func peakRSSOf(t *testing.T, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("peak RSS: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("peak RSS: no VmHWM")
	return 0
}

// pace waits d or until ctx ends: each attacker is paced so that the
// siege measures the agent's defences, not how much CPU the attackers'
// own loops take from a small machine.
func pace(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// attackClient sends each attack on a connection of its own, bounded.
var attackClient = &http.Client{
	Timeout:   5 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

func attackPost(ctx context.Context, attacks *atomic.Int64, url, token, body string) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	attacks.Add(1)
	resp, err := attackClient.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// nestingBombs sends 64 KiB bodies of '[' and '{' to both JSON doors with
// a valid trigger credential of its own.
func nestingBombs(ctx context.Context, attacks *atomic.Int64, addr string) {
	bombs := []string{
		`{"condition":"X","labels":` + strings.Repeat("[", 64<<10-30),
		`{"version":"4","alerts":` + strings.Repeat(`{"a":`, (64<<10-30)/5),
		`{"condition":"X","labels":{"a":[` + strings.Repeat("1,", (64<<10-40)/2) + `1]}}`,
	}
	for i := 0; ctx.Err() == nil; i++ {
		door := "/v1/alarms"
		if i%2 == 1 {
			door = "/v1/alertmanager"
		}
		attackPost(ctx, attacks, "http://"+addr+door, siegeAttackerToken, bombs[i%len(bombs)])
		pace(ctx, 10*time.Millisecond)
	}
}

// slowSignedBodies sends well-formed signature headers and then a body a
// byte every half second.
func slowSignedBodies(ctx context.Context, attacks *atomic.Int64, addr string) {
	for ctx.Err() == nil {
		c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", addr)
		if err != nil {
			pace(ctx, 10*time.Millisecond)
			continue
		}
		attacks.Add(1)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		body := `{"condition":"RM1_Stopped"}`
		sig := sign.Sign([]byte("not-the-secret"), ts, "POST", "/v1/alarms", []byte(body))
		_, err = fmt.Fprintf(c, "POST /v1/alarms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s: %s\r\n%s: %s\r\n\r\n",
			len(body), sign.HeaderTimestamp, ts, sign.HeaderSignature, sig)
		for i := 0; err == nil && i < len(body) && ctx.Err() == nil; i++ {
			_, err = c.Write([]byte{body[i]})
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
		c.Close()
	}
}

// unreadLargeResponses asks for the longest event list and never reads the
// answer, keeping the connection open until the agent closes it.
func unreadLargeResponses(ctx context.Context, attacks *atomic.Int64, addr string) {
	for ctx.Err() == nil {
		c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", addr)
		if err != nil {
			pace(ctx, 10*time.Millisecond)
			continue
		}
		attacks.Add(1)
		fmt.Fprintf(c, "GET /v1/events?limit=1000 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", siegeReadToken)
		// Read nothing; ask again on a new connection after longer than
		// the agent's write deadline, which is what frees what it holds.
		select {
		case <-ctx.Done():
		case <-time.After(15 * time.Second):
		}
		c.Close()
	}
}

// junkTokens floods with wrong bearer tokens.
func junkTokens(ctx context.Context, attacks *atomic.Int64, addr string) {
	for i := 0; ctx.Err() == nil; i++ {
		attackPost(ctx, attacks, "http://"+addr+"/v1/alarms", fmt.Sprintf("junk-token-%d", i), `{"condition":"RM1_Stopped"}`)
		pace(ctx, 4*time.Millisecond)
	}
}

// connectionFlood opens connections that send nothing, as many as it can.
func connectionFlood(ctx context.Context, attacks *atomic.Int64, addr string) {
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for ctx.Err() == nil {
		c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", addr)
		if err != nil {
			pace(ctx, 10*time.Millisecond)
			continue
		}
		attacks.Add(1)
		open = append(open, c)
		if len(open) >= 200 {
			open[0].Close()
			open = open[1:]
		}
		pace(ctx, 2*time.Millisecond)
	}
}

// uniqueKeys floods the journal with new idempotency keys and large
// caller data, as fast as its credential is allowed.
func uniqueKeys(ctx context.Context, attacks *atomic.Int64, addr string) {
	text := strings.Repeat("x", 4000)
	for i := 0; ctx.Err() == nil; i++ {
		attackPost(ctx, attacks, "http://"+addr+"/v1/alarms?wait=0s", siegeAttackerToken,
			fmt.Sprintf(`{"id":"siege-%d-%d","condition":"Harmless","text":%q}`, time.Now().UnixNano(), i, text))
		pace(ctx, 10*time.Millisecond)
	}
}
