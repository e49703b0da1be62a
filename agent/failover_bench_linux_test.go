package agent_test

import (
	"bytes"
	"context"
	"crypto/rand"
	byteorder "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// Environment of BenchmarkFailover (scripts/bench-failover.sh sets them).
const (
	// envTrials is the number of moves per method (default 20).
	envTrials = "VIPAGENT_BENCH_TRIALS"
	// envNetlinkOptions is a YAML flow mapping put under the VIP's
	// `options:` on both agents, e.g. "{probe_timeout: 20ms}" (default: none,
	// i.e. the netlink backend's defaults).
	envNetlinkOptions = "VIPAGENT_BENCH_NETLINK_OPTIONS"
)

const (
	ipaddr2     = "/usr/lib/ocf/resource.d/heartbeat/IPaddr2"
	benchPort   = "8470"
	probeEvery  = time.Millisecond
	moveTimeout = 30 * time.Second
	// resumeWithin bounds the wait for the client's first replies after a
	// move: longer means the client never found the VIP's new owner.
	resumeWithin = 5 * time.Second
	// resumedAfter is how many replies after the move close a trial's
	// measurement window.
	resumedAfter = 20
	// settle is the pause after moving the VIP back to rm1: the announcing
	// that the move back started (IPaddr2's send_arp sends 5 frames 200 ms
	// apart, netlink 3) must be over before the next move, or a late frame
	// from rm1 would pull the client back to it and lengthen that outage.
	settle = 1200 * time.Millisecond
)

const failoverConfig = `
node: %[1]s
listen: %[2]s:8470
data_dir: %[3]s
insecure: true
auth:
  tokens: [{name: bench, role: admin, token: %[4]s}]
nodes:
  rm1: {url: "http://%[5]s:8470", token: %[4]s, member_id: 1}
  rm2: {url: "http://%[6]s:8470", token: %[4]s, member_id: 2}
vips:
  rm-vip:
    address: %[7]s
    interface: %[8]s
    backend: netlink
    options: %[9]s
reactions:
  - name: rm1-unexpected-stop
    match: {condition: RM1_Unexpected_Stop}
    steps:
      - {disable: rm-vip, on: rm1}
      - {enable: rm-vip, on: rm2, when: [vip_released]}
  - name: rm2-unexpected-stop
    match: {condition: RM2_Unexpected_Stop}
    steps:
      - {disable: rm-vip, on: rm2}
      - {enable: rm-vip, on: rm1, when: [vip_released]}
log: {format: json, level: warn}
`

// BenchmarkFailover measures, as a client probing every millisecond sees
// it, the outage while the VIP 192.0.2.100/24 moves from rm1 to rm2 in the
// network-namespace lab, for four methods side by side (interleaved trial
// by trial): two real `vipagent serve` processes on the netlink backend
// moved by one alarm posted to rm2's agent; ClusterLabs' IPaddr2 stop on
// rm1 then start on rm2; raw `ip addr del`, `ip addr add` and `arping -U`;
// keepalived (VRRP) stopped on the master (see keepalived).
// Before every move the client has rm1's MAC cached and has just been
// answered by rm1. It prints median, p95 and max outage per method. Timing
// never fails it; a move that did not happen does. Run it with
// scripts/bench-failover.sh.
func BenchmarkFailover(b *testing.B) {
	trials := 20
	if s := os.Getenv(envTrials); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want a positive number", envTrials, s)
		}
		trials = n
	}
	options := "{}"
	if s := os.Getenv(envNetlinkOptions); s != "" {
		options = s
	}
	agenttest.RequireProgram(b, "arping", "iputils-arping")
	_, err := os.Stat(ipaddr2)
	agenttest.Require(b, ipaddr2+" (apt-get install resource-agents)", err)
	// Ctrl-C ends the benchmark through b.Fatal, so its cleanups (agents,
	// IPaddr2's send_arp, the lab) still run.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	lab := viptest.Up(b)
	fb := &failoverBench{b: b, ctx: ctx, lab: lab, dir: b.TempDir()}
	fb.mustExec(lab.RM1.Name, "ip", "addr", "add", viptest.VIP4.String(), "dev", viptest.Interface)
	fb.startProber()
	fb.startAgents(options)
	fb.prepareIPaddr2()
	ka := fb.newKeepalived()
	methods := []method{
		{name: "vipagent", forward: fb.vipagentForward, back: fb.vipagentBack},
		{name: "IPaddr2", forward: fb.ipaddr2Forward, back: fb.ipaddr2Back},
		{name: "ip+arping", forward: fb.rawForward, back: fb.rawBack},
		{name: "keepalived", setup: ka.setup, forward: ka.forward, back: ka.back},
	}
	fb.waitClientOn(lab.RM1, "initial placement")

	for range b.N {
		outages := make(map[string][]time.Duration)
		toAnswer := make(map[string][]time.Duration)
		lost := make(map[string]int)
		fb.parts = nil
		for i := range trials {
			// Rotate the order so no method always follows the same one.
			for k := range methods {
				m := methods[(i+k)%len(methods)]
				o, l, a := fb.trial(m, i)
				outages[m.name] = append(outages[m.name], o)
				toAnswer[m.name] = append(toAnswer[m.name], a)
				lost[m.name] += l
			}
		}
		fb.report(methods, trials, outages, toAnswer, lost, options)
	}
}

// method moves the VIP from rm1 to rm2 (forward) and back. setup, when
// set, runs untimed before each forward move, with the VIP on rm1.
type method struct {
	name    string
	setup   func(trial int) error
	forward func(trial int) error
	back    func(trial int) error
}

type failoverBench struct {
	b     *testing.B
	ctx   context.Context
	lab   *viptest.Lab
	dir   string
	token string
	// parts break vipagent's forward moves down, from the journals.
	parts []moveParts
	probe *prober
	http  *http.Client
}

// trial moves the VIP with m and returns the client-seen outage, the
// probes lost, and the time from the start of the move to the first answer
// from rm2.
func (fb *failoverBench) trial(m method, i int) (time.Duration, int, time.Duration) {
	b, lab := fb.b, fb.lab
	if err := fb.ctx.Err(); err != nil {
		b.Fatalf("interrupted: %v", err)
	}
	if m.setup != nil {
		if err := m.setup(i); err != nil {
			b.Fatalf("%s trial %d: setup: %v", m.name, i, err)
		}
	}
	// The client must be talking to rm1, with rm1's MAC cached.
	if got := lab.NeighbourMAC(b, lab.Client.Name, viptest.VIP4.Addr()); got != lab.RM1.MAC.String() {
		b.Fatalf("%s trial %d: client has %q cached for the VIP, want rm1's %s", m.name, i, got, lab.RM1.MAC)
	}
	if !fb.probe.answeredSince(time.Now().Add(-20 * time.Millisecond)) {
		b.Fatalf("%s trial %d: the client got no reply from the VIP on rm1 in the last 20 ms", m.name, i)
	}
	t0 := time.Now()
	if err := m.forward(i); err != nil {
		b.Fatalf("%s trial %d: move to rm2: %v", m.name, i, err)
	}
	done := time.Now()
	fb.requireOn(m.name, i, lab.RM2, lab.RM1)
	outage, lost, answered, err := fb.probe.outage(t0, done)
	if err != nil {
		b.Fatalf("%s trial %d: %v", m.name, i, err)
	}
	if got, ok := lab.WaitNeighbourMAC(b, lab.Client.Name, viptest.VIP4.Addr(), lab.RM2.MAC, time.Second); !ok {
		b.Fatalf("%s trial %d: client answered but has %q cached for the VIP, want rm2's %s", m.name, i, got, lab.RM2.MAC)
	}

	if err := m.back(i); err != nil {
		b.Fatalf("%s trial %d: move back to rm1: %v", m.name, i, err)
	}
	fb.requireOn(m.name, i, lab.RM1, lab.RM2)
	fb.waitClientOn(lab.RM1, fmt.Sprintf("%s trial %d: move back", m.name, i))
	time.Sleep(settle)
	return outage, lost, answered.Sub(t0)
}

// requireOn fails unless the VIP is on node `on` and not on `off`.
func (fb *failoverBench) requireOn(name string, i int, on, off viptest.Node) {
	b := fb.b
	if !fb.lab.HasAddress(b, on.Name, viptest.VIP4) || fb.lab.HasAddress(b, off.Name, viptest.VIP4) {
		b.Fatalf("%s trial %d: the move did not happen: %s has %v, %s has %v", name, i,
			on.Name, fb.lab.Addresses(b, on.Name), off.Name, fb.lab.Addresses(b, off.Name))
	}
}

// waitClientOn waits until the client has n's MAC cached for the VIP and
// gets replies again.
func (fb *failoverBench) waitClientOn(n viptest.Node, what string) {
	b := fb.b
	since := time.Now()
	if got, ok := fb.lab.WaitNeighbourMAC(b, fb.lab.Client.Name, viptest.VIP4.Addr(), n.MAC, resumeWithin); !ok {
		b.Fatalf("%s: client has %q cached for the VIP, want %s's %s", what, got, n.Name, n.MAC)
	}
	agenttest.Eventually(b, resumeWithin, func() bool { return fb.probe.answeredSince(since) },
		"%s: client gets no reply from the VIP on %s", what, n.Name)
}

func (fb *failoverBench) mustExec(ns string, argv ...string) {
	fb.b.Helper()
	if _, err := fb.lab.Exec(ns, argv...); err != nil {
		fb.b.Fatal(err)
	}
}

// --- vipagent ---

// startAgents runs `vipagent serve` in rm1's and rm2's namespaces.
func (fb *failoverBench) startAgents(options string) {
	b, lab := fb.b, fb.lab
	tok := make([]byte, 16)
	rand.Read(tok)
	fb.token = hex.EncodeToString(tok)
	// The test process lives in the root namespace: it reaches the agents
	// through sockets created in the client's namespace.
	clientNS := lab.Namespace(b, lab.Client.Name)
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	fb.http = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := viptest.RunIn(clientNS, func() error {
				var err error
				c, err = dialer.DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
	}}
	b.Cleanup(fb.http.CloseIdleConnections)
	for _, n := range []viptest.Node{lab.RM1, lab.RM2} {
		node := strings.TrimPrefix(n.Name, lab.Prefix)
		dir := filepath.Join(fb.dir, node)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		cfg := filepath.Join(dir, "vipagent.yaml")
		body := fmt.Sprintf(failoverConfig, node, n.Addr4.Addr(), filepath.Join(dir, "data"), fb.token,
			lab.RM1.Addr4.Addr(), lab.RM2.Addr4.Addr(), viptest.VIP4, viptest.Interface, options)
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			b.Fatal(err)
		}
		fb.startAgent(n, cfg)
	}
}

func (fb *failoverBench) startAgent(n viptest.Node, cfg string) {
	b := fb.b
	cmd := exec.Command("ip", "netns", "exec", n.Name, binary, "serve", "--config", cfg)
	var stderr agenttest.Buffer
	cmd.Stderr = &stderr
	// `ip netns exec` execs the agent in place, so the agent is the child:
	// it dies with this process even if the cleanups never run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	b.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if out := stderr.String(); b.Failed() && out != "" {
			b.Logf("agent in %s:\n%s", n.Name, out)
		}
	})
	url := "http://" + net.JoinHostPort(n.Addr4.Addr().String(), benchPort) + "/readyz"
	var err error
	agenttest.Eventually(b, 15*time.Second, func() bool {
		select {
		case <-exited:
			b.Fatalf("agent in %s exited: %v\n%s", n.Name, cmd.ProcessState, stderr.String())
		default:
		}
		var resp *http.Response
		if resp, err = fb.http.Get(url); err != nil {
			return false
		}
		resp.Body.Close()
		err = errors.New(resp.Status)
		return resp.StatusCode == http.StatusOK
	}, func() string { return fmt.Sprintf("agent in %s not ready: %v\n%s", n.Name, err, stderr.String()) })
}

func (fb *failoverBench) vipagentForward(trial int) error {
	res, err := fb.fire(fb.lab.RM2, "RM1_Unexpected_Stop", fmt.Sprintf("bench-forward-%d", trial))
	if err != nil {
		return err
	}
	parts, err := fb.moveParts(res)
	if err != nil {
		return err
	}
	fb.parts = append(fb.parts, parts)
	return nil
}

// moveParts splits a vipagent move at the times both agents journaled
// (same host, same clock), in milliseconds.
type moveParts struct {
	// disable is rm1's step, from its start until the removal was
	// verified (the address goes just before).
	disable float64
	// finish runs until rm1 stamps its result: the event's "running" mark,
	// written in the background, must be durable by then.
	finish float64
	// answer runs until rm2 starts the enable: rm1 commits its result to
	// the journal, answers over HTTP, rm2 records the step.
	answer float64
	// enable is rm2's step: observe, duplicate-address probe, add, first
	// announcement.
	enable float64
}

func (fb *failoverBench) moveParts(res reactions.Result) (moveParts, error) {
	url := "http://" + net.JoinHostPort(fb.lab.RM1.Addr4.Addr().String(), benchPort) + "/v1/events/" + res.Steps[0].PeerEvent
	req, err := http.NewRequestWithContext(fb.ctx, http.MethodGet, url, nil)
	if err != nil {
		return moveParts{}, err
	}
	req.Header.Set("Authorization", "Bearer "+fb.token)
	resp, err := fb.http.Do(req)
	if err != nil {
		return moveParts{}, fmt.Errorf("rm1's event %s: %w", res.Steps[0].PeerEvent, err)
	}
	defer resp.Body.Close()
	var ev reactions.Event
	if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil || ev.Result == nil || len(ev.Result.Steps) != 1 {
		return moveParts{}, fmt.Errorf("rm1's event %s: %s: %v", res.Steps[0].PeerEvent, resp.Status, err)
	}
	peer := ev.Result.Steps[0]
	released := peer.StartedAt.Add(time.Duration(peer.DurationMS * float64(time.Millisecond)))
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return moveParts{
		disable: peer.DurationMS,
		finish:  ms(ev.Result.FinishedAt.Sub(released)),
		answer:  ms(res.Steps[1].StartedAt.Sub(ev.Result.FinishedAt)),
		enable:  res.Steps[1].DurationMS,
	}, nil
}

func (fb *failoverBench) vipagentBack(trial int) error {
	_, err := fb.fire(fb.lab.RM1, "RM2_Unexpected_Stop", fmt.Sprintf("bench-back-%d", trial))
	return err
}

// fire posts the alarm to node n's agent from the client's namespace, as
// an SCS alarm reaction's webhook would (the move starts with this POST),
// and checks that both steps moved the VIP.
func (fb *failoverBench) fire(n viptest.Node, condition, id string) (reactions.Result, error) {
	ctx, cancel := context.WithTimeout(fb.ctx, moveTimeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(n.Addr4.Addr().String(), benchPort) + "/v1/alarms?wait=20s"
	body, _ := json.Marshal(map[string]string{"condition": condition, "id": id})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return reactions.Result{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+fb.token)
	resp, err := fb.http.Do(req)
	if err != nil {
		return reactions.Result{}, fmt.Errorf("fire %s at %s: %w", condition, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var res reactions.Result
	if err := json.Unmarshal(data, &res); err != nil || resp.StatusCode != http.StatusOK || res.Status != reactions.StatusSucceeded || len(res.Steps) != 2 {
		return res, fmt.Errorf("fire %s at %s: %s (%v): %s", condition, url, resp.Status, err, data)
	}
	for _, s := range res.Steps {
		if s.Outcome != reactions.OutcomeChanged {
			return res, fmt.Errorf("fire %s: step %d (%s on %s) ended %s, want changed: %s", condition, s.Index, s.Action, s.Node, s.Outcome, s.Error)
		}
	}
	return res, nil
}

// --- IPaddr2 ---

// ipaddr2Env is the environment of IPaddr2 on node n. Each node gets its
// own state directory (send_arp's pid file), as separate hosts would.
func (fb *failoverBench) ipaddr2Env(n viptest.Node) []string {
	return []string{
		"env",
		"OCF_ROOT=/usr/lib/ocf",
		"OCF_RESOURCE_INSTANCE=bench-vip",
		"HA_RSCTMP=" + filepath.Join(fb.dir, "ocf-"+strings.TrimPrefix(n.Name, fb.lab.Prefix)),
		"OCF_RESKEY_ip=" + viptest.VIP4.Addr().String(),
		"OCF_RESKEY_cidr_netmask=" + strconv.Itoa(viptest.VIP4.Bits()),
		"OCF_RESKEY_nic=" + viptest.Interface,
		ipaddr2,
	}
}

func (fb *failoverBench) prepareIPaddr2() {
	for _, n := range []viptest.Node{fb.lab.RM1, fb.lab.RM2} {
		if err := os.MkdirAll(filepath.Join(fb.dir, "ocf-"+strings.TrimPrefix(n.Name, fb.lab.Prefix)), 0o700); err != nil {
			fb.b.Fatal(err)
		}
	}
	// Stopping kills the send_arp that a start left announcing.
	fb.b.Cleanup(func() {
		for _, n := range []viptest.Node{fb.lab.RM1, fb.lab.RM2} {
			// Not fb.ctx: it is cancelled by now, or by Ctrl-C.
			if err := fb.ipaddr2(context.Background(), n, "stop"); err != nil {
				fb.b.Errorf("cleanup: %v", err)
			}
		}
	})
}

func (fb *failoverBench) ipaddr2Move(from, to viptest.Node) error {
	if err := fb.ipaddr2(fb.ctx, from, "stop"); err != nil {
		return err
	}
	return fb.ipaddr2(fb.ctx, to, "start")
}

// ipaddr2 runs IPaddr2 in node n. Its output goes to a file, not a pipe:
// start leaves send_arp running in the background with IPaddr2's output
// inherited, and a pipe would stay open until send_arp ends.
func (fb *failoverBench) ipaddr2(ctx context.Context, n viptest.Node, action string) error {
	log, err := os.CreateTemp(fb.dir, "ipaddr2-*.log")
	if err != nil {
		return err
	}
	defer os.Remove(log.Name())
	defer log.Close()
	ctx, cancel := context.WithTimeout(ctx, moveTimeout)
	defer cancel()
	argv := append([]string{"netns", "exec", n.Name}, fb.ipaddr2Env(n)...)
	cmd := exec.CommandContext(ctx, "ip", append(argv, action)...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		out, _ := os.ReadFile(log.Name())
		return fmt.Errorf("IPaddr2 %s in %s: %w\n%s", action, n.Name, err, out)
	}
	return nil
}

func (fb *failoverBench) ipaddr2Forward(int) error { return fb.ipaddr2Move(fb.lab.RM1, fb.lab.RM2) }
func (fb *failoverBench) ipaddr2Back(int) error    { return fb.ipaddr2Move(fb.lab.RM2, fb.lab.RM1) }

// --- raw commands ---

func (fb *failoverBench) rawMove(from, to viptest.Node) error {
	addr := viptest.VIP4.String()
	for _, c := range []struct {
		ns   string
		argv []string
	}{
		{from.Name, []string{"ip", "addr", "del", addr, "dev", viptest.Interface}},
		{to.Name, []string{"ip", "addr", "add", addr, "dev", viptest.Interface}},
		{to.Name, []string{"arping", "-U", "-c1", "-I", viptest.Interface, viptest.VIP4.Addr().String()}},
	} {
		if out, err := fb.lab.Exec(c.ns, c.argv...); err != nil {
			return fmt.Errorf("in %s: %w\n%s", c.ns, err, out)
		}
	}
	return nil
}

func (fb *failoverBench) rawForward(int) error { return fb.rawMove(fb.lab.RM1, fb.lab.RM2) }
func (fb *failoverBench) rawBack(int) error    { return fb.rawMove(fb.lab.RM2, fb.lab.RM1) }

// --- report ---

func (fb *failoverBench) report(methods []method, trials int, outages, toAnswer map[string][]time.Duration, lost map[string]int, options string) {
	b := fb.b
	var out strings.Builder
	fmt.Fprintf(&out, "\nVIP %s moved rm1 -> rm2, %d trials per method, client probing every %s (netlink options %s)\n",
		viptest.VIP4, trials, probeEvery, options)
	fmt.Fprintf(&out, "%-10s %10s %10s %10s %12s %22s\n", "method", "median ms", "p95 ms", "max ms", "lost/trial", "start->answer med ms")
	medians := map[string]float64{}
	for _, m := range methods {
		d := outages[m.name]
		med, p95, mx := quantiles(d)
		medians[m.name] = med
		ans, _, _ := quantiles(toAnswer[m.name])
		fmt.Fprintf(&out, "%-10s %10.1f %10.1f %10.1f %12.1f %22.1f\n", m.name, med, p95, mx, float64(lost[m.name])/float64(len(d)), ans)
		b.ReportMetric(ans, strings.ReplaceAll(strings.ToLower(m.name), "+", "-")+"-start-to-answer-ms")
		unit := strings.ReplaceAll(strings.ToLower(m.name), "+", "-")
		b.ReportMetric(med, unit+"-median-ms")
		b.ReportMetric(p95, unit+"-p95-ms")
		b.ReportMetric(mx, unit+"-max-ms")
	}
	ratio := medians["vipagent"] / medians["IPaddr2"]
	fmt.Fprintf(&out, "median ratio vipagent/IPaddr2 = %.3f (target <= 0.125); vipagent/ip+arping = %.2f (target <= 1); vipagent/keepalived = %.3f\n",
		ratio, medians["vipagent"]/medians["ip+arping"], medians["vipagent"]/medians["keepalived"])
	b.ReportMetric(ratio, "vipagent/IPaddr2")
	var dis, fin, ans, en []float64
	for _, p := range fb.parts {
		dis = append(dis, p.disable)
		fin = append(fin, p.finish)
		ans = append(ans, p.answer)
		en = append(en, p.enable)
	}
	fmt.Fprintf(&out, "vipagent move, medians from the journals: rm1 disable step %.1f ms, rm1 result stamped %.1f ms later, "+
		"rm2 enable starts %.1f ms after that (rm1 commits, answers), rm2 enable step %.1f ms\n",
		median(dis), median(fin), median(ans), median(en))
	fmt.Print(out.String())
}

// quantiles returns the median, the p95 (nearest rank) and the maximum in
// milliseconds.
func quantiles(d []time.Duration) (med, p95, mx float64) {
	ms := make([]float64, len(d))
	for i, v := range d {
		ms[i] = float64(v.Microseconds()) / 1000
	}
	slices.Sort(ms)
	rank := int(math.Ceil(0.95*float64(len(ms)))) - 1
	return median(ms), ms[max(rank, 0)], ms[len(ms)-1]
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// --- the client's prober ---

// prober sends an ICMP echo request to the VIP every probeEvery from a raw
// socket in the client's namespace and records when each reply arrives.
type prober struct {
	conn *icmp.PacketConn
	id   int
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	sent    []time.Time // by probe number
	replies []reply     // in arrival order
}

type reply struct {
	n  int // probe number
	at time.Time
}

func (fb *failoverBench) startProber() {
	b := fb.b
	var conn *icmp.PacketConn
	err := viptest.RunIn(fb.lab.Namespace(b, fb.lab.Client.Name), func() error {
		var err error
		conn, err = icmp.ListenPacket("ip4:icmp", fb.lab.Client.Addr4.Addr().String())
		return err
	})
	if err != nil {
		b.Fatalf("open the client's ICMP socket: %v", err)
	}
	var idb [2]byte
	rand.Read(idb[:])
	p := &prober{conn: conn, id: int(byteorder.BigEndian.Uint16(idb[:])), stop: make(chan struct{})}
	p.wg.Add(2)
	go p.send(&net.IPAddr{IP: viptest.VIP4.Addr().AsSlice()})
	go p.receive()
	b.Cleanup(func() {
		close(p.stop)
		conn.Close()
		p.wg.Wait()
	})
	fb.probe = p
}

// send keeps to a fixed schedule; after a stall it skips the missed slots
// instead of sending a burst.
func (p *prober) send(dst net.Addr) {
	defer p.wg.Done()
	next := time.Now()
	payload := make([]byte, 8)
	for n := 0; ; n++ {
		select {
		case <-p.stop:
			return
		default:
		}
		byteorder.BigEndian.PutUint64(payload, uint64(n))
		msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: p.id, Seq: n & 0xffff, Data: payload}}
		wb, _ := msg.Marshal(nil)
		p.mu.Lock()
		p.sent = append(p.sent, time.Now())
		p.mu.Unlock()
		// A send fails while the client cannot resolve the VIP: that is
		// the outage being measured, the reply will be missing.
		_, _ = p.conn.WriteTo(wb, dst)
		next = next.Add(probeEvery)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		} else if d < -probeEvery {
			next = time.Now()
		}
	}
}

func (p *prober) receive() {
	defer p.wg.Done()
	buf := make([]byte, 1500)
	for {
		nr, _, err := p.conn.ReadFrom(buf)
		at := time.Now()
		if err != nil {
			select {
			case <-p.stop:
				return
			default:
			}
			continue
		}
		m, err := icmp.ParseMessage(1, buf[:nr])
		if err != nil || m.Type != ipv4.ICMPTypeEchoReply {
			continue
		}
		e, ok := m.Body.(*icmp.Echo)
		if !ok || e.ID != p.id || len(e.Data) != 8 {
			continue
		}
		n := int(byteorder.BigEndian.Uint64(e.Data))
		p.mu.Lock()
		if n < len(p.sent) {
			p.replies = append(p.replies, reply{n: n, at: at})
		}
		p.mu.Unlock()
	}
}

// answeredSince reports whether a reply to a probe sent at or after t has
// arrived.
func (p *prober) answeredSince(t time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.replies) - 1; i >= 0; i-- {
		r := p.replies[i]
		if !p.sent[r.n].Before(t) {
			return true
		}
		if r.at.Before(t) {
			return false
		}
	}
	return false
}

// outage waits until resumedAfter probes sent after the move ended (done)
// are answered, then returns the longest gap between consecutive replies
// from the last reply before the move started (t0) on, and how many
// probes in that window went unanswered.
func (p *prober) outage(t0, done time.Time) (gap time.Duration, lost int, answered time.Time, err error) {
	deadline := time.Now().Add(resumeWithin)
	for {
		p.mu.Lock()
		after := 0
		for i := len(p.replies) - 1; i >= 0 && !p.sent[p.replies[i].n].Before(done); i-- {
			after++
		}
		p.mu.Unlock()
		if after >= resumedAfter {
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, time.Time{}, fmt.Errorf("the client got %d replies from the VIP within %s of the move (want %d)", after, resumeWithin, resumedAfter)
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	first := -1 // the last reply that arrived before the move started
	for i := len(p.replies) - 1; i >= 0; i-- {
		if p.replies[i].at.Before(t0) {
			first = i
			break
		}
	}
	if first < 0 {
		return 0, 0, time.Time{}, errors.New("no reply before the move started")
	}
	w := p.replies[first:]
	seen := map[int]bool{}
	for i, r := range w {
		seen[r.n] = true
		// The reply that ends the longest gap is the new holder's first.
		if i > 0 && r.at.Sub(w[i-1].at) > gap {
			gap, answered = r.at.Sub(w[i-1].at), r.at
		}
	}
	for n := w[0].n; n <= w[len(w)-1].n; n++ {
		if !seen[n] {
			lost++
		}
	}
	return gap, lost, answered, nil
}
