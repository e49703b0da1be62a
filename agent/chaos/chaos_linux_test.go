package chaos

import (
	"cmp"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

var (
	schedulesFlag = flag.Int("chaos.schedules", 0, "number of seeded schedules to run; 0 skips TestChaos")
	seedFlag      = flag.Uint64("chaos.seed", 0, "seed of the first schedule, the next ones use seed+1, seed+2...; 0 picks one from the clock")
	durationFlag  = flag.Duration("chaos.duration", 20*time.Second, "how long each schedule sends operations and injects faults")
	verboseFlag   = flag.Bool("chaos.verbose", false, "print every schedule and both journals, not only those with a violation")
	familyFlag    = flag.String("chaos.family", familyMixed, "schedule family: mixed (every operation and fault) or wake (wake after freeze with queued requests from both doors)")
)

// envChaos=1 runs one schedule without flags.
const envChaos = "VIPAGENT_CHAOS"

// TestChaos is the fault lab: see the package documentation and the
// README's "Fault lab". It runs only when asked for (scripts/chaos.sh).
func TestChaos(t *testing.T) {
	n := *schedulesFlag
	if n == 0 && os.Getenv(envChaos) == "1" {
		n = 1
	}
	if n <= 0 {
		t.Skipf("the fault lab (root, network namespaces) runs only when asked: bash scripts/chaos.sh [--schedules N] [--seed S] "+
			"(or go test ./agent/chaos -run TestChaos -args -chaos.schedules=N, or %s=1 for one schedule); it needs root", envChaos)
	}
	viptest.RequireRoot(t)
	viptest.RequireProgram(t, "nft", "nftables")
	viptest.RequireProgram(t, "bridge", "iproute2")
	viptest.RequireProgram(t, "mount", "mount")
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()%1_000_000_000) + 1
	}
	d := *durationFlag
	gen := generate
	switch *familyFlag {
	case familyMixed:
	case familyWake:
		gen = generateWake
	default:
		t.Fatalf("-chaos.family: %q is not mixed or wake", *familyFlag)
	}
	opts := newLabOptions(t)
	fmt.Printf("chaos: %d %s schedule(s) from seed %d, %s of operations and faults each, backend %s\n", n, *familyFlag, seed, d, opts.backend)
	bin := buildAgent(t)

	var sum summary
	for i := range n {
		s := gen(seed+uint64(i), d)
		rep := &report{seed: s.seed, outages: map[string][]time.Duration{}}
		passed := t.Run(fmt.Sprintf("seed=%d", s.seed), func(t *testing.T) {
			runSchedule(t, bin, s, rep, opts)
		})
		if !passed && len(rep.violations) == 0 && rep.harness == "" {
			rep.harness = "the schedule did not finish (see the test log)"
		}
		// The lab and the tmpfs are gone once the subtest's cleanups ran.
		rep.leftovers(bin, opts.wineExe())
		sum.add(s, rep)
		rep.print(s, d)
	}
	sum.print()
	fmt.Printf("chaos: %d schedules, %d faults, %d invariant violations\n", sum.schedules, sum.faults, sum.violations)
	if sum.violations > 0 || sum.harness > 0 {
		t.Errorf("%d invariant violations, %d schedules with harness errors (see above)", sum.violations, sum.harness)
	}
}

// buildAgent builds the vipagent binary once for every schedule, unless
// VIPAGENT_EXE names one (to run the lab against a given build).
func buildAgent(t *testing.T) string {
	if p := os.Getenv(agenttest.EnvBinary); p != "" {
		return p
	}
	bin := filepath.Join(t.TempDir(), "vipagent")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/vipagent/vipagent/agent/cmd/vipagent")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build vipagent: %v\n%s", err, out)
	}
	return bin
}

// violation is one broken invariant.
type violation struct {
	invariant string
	detail    string
}

// report is what one schedule found.
type report struct {
	seed       uint64
	prefix     string // the lab's namespace prefix
	tmpfs      string
	holders    []string
	expected   []string
	neighbour  string
	violations []violation
	// harness is set when the harness itself failed (not the agents).
	harness  string
	journals map[string]string
	outages  map[string][]time.Duration
}

func (r *report) violate(invariant, format string, args ...any) {
	r.violations = append(r.violations, violation{invariant, fmt.Sprintf(format, args...)})
}

// runSchedule runs s in a fresh lab and checks it into rep.
func runSchedule(t *testing.T, bin string, s *schedule, rep *report, opts labOptions) {
	c := newCluster(t, bin, s.tmpfsNode, opts, s.seed)
	rep.prefix, rep.tmpfs = c.lab.Prefix, c.tmpfs
	// Runs before the tmpfs is unmounted and the lab removed, even when a
	// t.Fatal ends the schedule early.
	t.Cleanup(func() {
		for _, n := range c.nodes {
			c.stop(n)
		}
		if c.wine != "" {
			c.killWineservers()
		}
	})
	for _, name := range []string{"rm1", "rm2"} {
		if err := c.start(c.nodes[name]); err != nil {
			t.Fatal(err)
		}
	}

	// The VIP is on no node at first: reconcile must give it to its owner.
	initial := time.Now()
	if !agenttest.Poll(20*time.Second, func() bool {
		hs := c.holders()
		return len(hs) == 1 && hs[0] == "rm1" && c.probe.LastFrom("rm1").After(initial)
	}) {
		rep.violate("a", "initial placement: the owner rm1 did not get the VIP within 20s (holders %v)", c.holders())
	}
	initialDone := time.Now()

	c.runTimeline(s, rep)
	for _, o := range s.ops {
		if o.res.ownConfig {
			rep.harness += fmt.Sprintf("op %d: the command refused its own configuration, so it tested nothing: %s; ", o.n, o.res.detail)
		}
	}
	for _, err := range c.healAll() {
		if strings.HasPrefix(err.Error(), "heal "+string(faultKill)) {
			rep.violate("d", "an agent did not start again: %v", err)
		} else {
			rep.harness += err.Error() + "; "
		}
	}
	settled := c.settle()
	c.check(s, rep, initialDone)
	c.measure(s, rep, settled)
	if c.win != nil {
		for _, e := range c.win.Close() {
			rep.harness += e + "; "
		}
	}

	// Invariant (d): no agent exits by itself, every agent stops when
	// asked and leaves no lock.
	for _, name := range []string{"rm1", "rm2"} {
		n := c.nodes[name]
		n.mu.Lock()
		crashes := n.crashes
		n.mu.Unlock()
		for _, cr := range crashes {
			rep.violate("d", "agent %s exited by itself at %s; its log ends: %s", name, cr, logTail(n.log.Name(), 600))
		}
		if !c.stop(n) {
			rep.violate("d", "agent %s did not exit within 10s of SIGTERM (killed)", name)
		}
		if err := lockFree(filepath.Join(n.data, "journal.db")); err != nil {
			rep.violate("d", "journal lock of %s: %v", name, err)
		}
	}
	if t.Failed() && rep.harness == "" {
		rep.harness = "the harness reported errors (see the test log)"
	}
	if len(rep.violations) > 0 {
		t.Fail()
	}
}

// logTail is the end of an agent's log, on one line.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// runTimeline plays the schedule: operations start at their offsets and run
// concurrently; faults start and heal at theirs. It returns when every
// operation has ended (each is bounded) and every fault is healed.
func (c *cluster) runTimeline(s *schedule, rep *report) {
	type event struct {
		at    time.Duration
		op    *op
		fault *fault
		heal  bool
	}
	var tl []event
	for _, o := range s.ops {
		tl = append(tl, event{at: o.at, op: o})
	}
	for _, f := range s.faults {
		tl = append(tl, event{at: f.at, fault: f}, event{at: f.at + f.hold, fault: f, heal: true})
	}
	slices.SortStableFunc(tl, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	var wg sync.WaitGroup
	start := time.Now()
	for _, e := range tl {
		time.Sleep(time.Until(start.Add(e.at))) // the seeded schedule's time
		switch {
		case e.op != nil:
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.runOp(s, e.op)
			}()
		case !e.heal:
			e.fault.start = time.Now()
			if err := c.inject(e.fault); err != nil {
				e.fault.err = err.Error()
				rep.harness += fmt.Sprintf("inject %s: %v; ", e.fault, err)
			}
		default:
			if err := c.heal(e.fault); err != nil {
				e.fault.err = err.Error()
				if e.fault.kind == faultKill {
					rep.violate("d", "agent %s did not start again after SIGKILL: %v", e.fault.node, err)
				} else {
					rep.harness += fmt.Sprintf("heal %s: %v; ", e.fault, err)
				}
			}
			e.fault.end = time.Now()
		}
	}
	wg.Wait()
}

// settle waits, boundedly, until the pair is quiet: at least one reconcile
// interval plus two steps' timeouts, then until the holders, the client's
// neighbour entry and the journals' unfinished events stop changing (3 s
// when the state looks right, 10 s when it does not, 40 s at most).
func (c *cluster) settle() time.Time {
	// Time passing is the point: the agents' own timers (reconcile,
	// step timeouts) must have had their turn before quiet means settled.
	time.Sleep(reconcileEvery + 2*vipTimeout)
	deadline := time.Now().Add(max(40*time.Second, 4*vipTimeout))
	last, since := "", time.Now()
	for {
		now := time.Now()
		hs := c.holders()
		mac := c.macNode(c.lab.NeighbourMAC(c.t, c.lab.Client.Name, viptest.VIP4.Addr()))
		busy := false
		for _, n := range c.nodes {
			evs, err := c.events(n)
			if err != nil {
				busy = true
				continue
			}
			for _, ev := range evs {
				if !ev.Status.Final() {
					busy = true
				}
			}
		}
		key := fmt.Sprint(hs, mac, busy)
		if key != last {
			last, since = key, now
		}
		good := !busy && len(hs) == 1 && mac == hs[0] && c.probe.LastFrom(hs[0]).After(now.Add(-500*time.Millisecond))
		quiet := now.Sub(since)
		if (good && quiet >= 3*reconcileEvery) || (!busy && quiet >= 10*reconcileEvery) || now.After(deadline) {
			return now
		}
		time.Sleep(250 * time.Millisecond) // quiet is measured over time
	}
}

// measure records the client-observed outage of every fault, and of every
// move that ran alone (an alarm or `failover enable` with no fault, no
// other operation and no repair at the time): the longest time without an
// answer from the VIP in the fault's window (from its start to 5 s after
// its heal, or the next fault's start, whichever is first) or the move's
// (from its start to 1 s after it ended).
func (c *cluster) measure(s *schedule, rep *report, settled time.Time) {
	rs := c.probe.Replies()
	for i, f := range s.faults {
		if f.start.IsZero() || f.end.IsZero() {
			continue
		}
		end := f.end.Add(5 * time.Second)
		if i+1 < len(s.faults) && !s.faults[i+1].start.IsZero() && s.faults[i+1].start.Before(end) {
			end = s.faults[i+1].start
		}
		if settled.Before(end) {
			end = settled
		}
		f.outage = longestGap(rs, f.start, end)
		rep.outages[string(f.kind)] = append(rep.outages[string(f.kind)], f.outage)
	}
	for _, o := range s.ops {
		r := o.res
		if r.outcome != outcomeSucceeded || o.check != checkMove || !r.alone {
			continue
		}
		from, to := r.invoked, r.completed.Add(time.Second)
		if answererAt(rs, from, false) == answererAt(rs, to, true) || !answeredWithin(rs, from, 20*time.Millisecond) {
			continue // the VIP did not move, or the client was not being served when it started
		}
		o.res.outage = longestGap(rs, from, to)
		kind := moveOther
		if o.condition != "" && o.node == o.target {
			kind = moveToSurvivor
		}
		rep.outages[kind] = append(rep.outages[kind], o.res.outage)
	}
}

// The outage table's rows for moves that ran alone: an alarm sent to the
// surviving node's agent (as in the failover benchmark: the peer releases,
// then the survivor enables), and every other move (an alarm sent to the
// stopped node's agent, which has the survivor enable through a peer call;
// `failover enable X`).
const (
	moveToSurvivor = "move, to survivor"
	moveOther      = "move, other"
)

// answererAt is the node that answered last before t, or first after t.
func answererAt(rs []agenttest.Reply, t time.Time, after bool) string {
	if after {
		for _, r := range rs {
			if r.At.After(t) {
				return r.Node
			}
		}
		return ""
	}
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].At.Before(t) {
			return rs[i].Node
		}
	}
	return ""
}

// answeredWithin reports whether an answer arrived in the d before t.
func answeredWithin(rs []agenttest.Reply, t time.Time, d time.Duration) bool {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].At.Before(t) {
			return t.Sub(rs[i].At) <= d
		}
	}
	return false
}

// summary adds up every schedule's report.
type summary struct {
	schedules, faults, violations, harness int
	outages                                map[string][]time.Duration
}

func (s *summary) add(sc *schedule, r *report) {
	s.schedules++
	s.faults += len(sc.faults)
	s.violations += len(r.violations)
	if r.harness != "" {
		s.harness++
	}
	if s.outages == nil {
		s.outages = map[string][]time.Duration{}
	}
	for k, v := range r.outages {
		s.outages[k] = append(s.outages[k], v...)
	}
}

// print writes the outage table: per fault kind, the client-observed
// outage while it was active (and up to 5 s after its heal).
func (s *summary) print() {
	fmt.Printf("chaos: client-observed outage per fault kind (longest time without an answer, probing every %s)\n", probeEvery)
	fmt.Printf("  %-18s %6s %10s %10s\n", "fault", "count", "median ms", "max ms")
	kinds := []string{moveToSurvivor, moveOther}
	for _, k := range faultKinds {
		kinds = append(kinds, string(k))
	}
	for _, k := range kinds {
		d := s.outages[k]
		if len(d) == 0 {
			fmt.Printf("  %-18s %6d %10s %10s\n", k, 0, "-", "-")
			continue
		}
		slices.Sort(d)
		med := d[len(d)/2]
		if len(d)%2 == 0 {
			med = (d[len(d)/2-1] + d[len(d)/2]) / 2
		}
		fmt.Printf("  %-18s %6d %10.1f %10.1f\n", k, len(d), ms(med), ms(d[len(d)-1]))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// print writes the schedule's line and, on a violation, the schedule, both
// journals and the command that replays it.
func (r *report) print(s *schedule, d time.Duration) {
	kinds := map[faultKind]int{}
	for _, f := range s.faults {
		kinds[f.kind]++
	}
	var fs []string
	for _, k := range faultKinds {
		if kinds[k] > 0 {
			fs = append(fs, fmt.Sprintf("%s×%d", k, kinds[k]))
		}
	}
	outcome := "ok"
	switch {
	case len(r.violations) > 0:
		outcome = fmt.Sprintf("%d VIOLATION(S)", len(r.violations))
	case r.harness != "":
		outcome = "HARNESS ERROR"
	}
	fmt.Printf("chaos: seed %d: %d ops, %d faults [%s], holder %v (expected one of %v), client -> %s: %s\n",
		r.seed, len(s.ops), len(s.faults), strings.Join(fs, " "), r.holders, r.expected, cmp.Or(r.neighbour, "nothing"), outcome)
	if r.harness != "" {
		fmt.Printf("  harness: %s\n", r.harness)
	}
	if len(r.violations) == 0 && !*verboseFlag {
		return
	}
	for _, v := range r.violations {
		fmt.Printf("  VIOLATION (%s): %s\n", v.invariant, v.detail)
	}
	fmt.Printf("  schedule (tmpfs under %s):\n", s.tmpfsNode)
	type line struct {
		at   time.Duration
		text string
	}
	var lines []line
	for _, o := range s.ops {
		lines = append(lines, line{o.at, o.String()})
	}
	for _, f := range s.faults {
		lines = append(lines, line{f.at, f.String()})
	}
	slices.SortStableFunc(lines, func(a, b line) int { return cmp.Compare(a.at, b.at) })
	for _, l := range lines {
		fmt.Printf("    %s\n", l.text)
	}
	for _, name := range []string{"rm1", "rm2"} {
		fmt.Printf("  journal of %s:\n%s", name, r.journals[name])
	}
	replay := fmt.Sprintf("bash scripts/chaos.sh --schedules 1 --seed %d", r.seed)
	if *backendFlag != "netlink" {
		replay += " --backend " + *backendFlag
	}
	if *wineFlag != "" {
		replay += " --wine"
	}
	if d != 20*time.Second {
		replay += " --duration " + d.String()
	}
	fmt.Printf("  replay: %s\n", replay)
}
