package chaos

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// check verifies invariants (a), (b), (c) and (e) on the settled pair.
func (c *cluster) check(s *schedule, rep *report, initial time.Time) {
	now := time.Now()
	// (a) exactly one holder, one the schedule's intents allow, or none
	// when they allow it (released on both nodes: INIT on both).
	want := expectedHolders(s, initial)
	for node := range want {
		rep.expected = append(rep.expected, node)
	}
	slices.Sort(rep.expected)
	rep.holders = c.holders()
	switch {
	case len(rep.holders) == 0 && want[none]:
	case len(rep.holders) != 1:
		rep.violate("a", "the VIP is on %d nodes %v once settled, want exactly one of %v", len(rep.holders), rep.holders, rep.expected)
	case !want[rep.holders[0]]:
		rep.violate("a", "the VIP is on %s once settled, but the last accepted intents allow only %v", rep.holders[0], rep.expected)
	}

	// (b) the client's neighbour entry points at the holder, which answers.
	rep.neighbour = c.macNode(c.lab.NeighbourMAC(c.t, c.lab.Client.Name, viptest.VIP4.Addr()))
	if len(rep.holders) == 1 {
		h := rep.holders[0]
		if rep.neighbour != h {
			rep.violate("b", "the client's neighbour entry for the VIP points at %q, but %s holds it", rep.neighbour, h)
		}
		if last := c.probe.LastFrom(h); now.Sub(last) > time.Second {
			rep.violate("b", "the VIP does not answer from its holder %s (last answer %s)", h, ago(now, last))
		}
	}

	// (c) every accepted event finished, none ran twice, none was lost.
	rep.journals = map[string]string{}
	journals := map[string]map[string]reactions.Event{}
	for _, name := range []string{"rm1", "rm2"} {
		evs, err := c.events(c.nodes[name])
		if err != nil {
			rep.violate("c", "cannot read the journal of %s: %v", name, err)
			continue
		}
		rep.journals[name] = formatJournal(evs)
		byID := map[string]reactions.Event{}
		keys := map[string][]string{}
		for _, ev := range evs {
			byID[ev.ID] = ev
			if !ev.Status.Final() {
				rep.violate("c", "event %s on %s is still %s once settled", ev.ID, name, ev.Status)
			}
			if ev.Runs > 1 && !crashNote(ev) {
				rep.violate("c", "event %s on %s ran %d times without a crash note", ev.ID, name, ev.Runs)
			}
			if ev.Key != "" {
				keys[ev.Key] = append(keys[ev.Key], ev.ID)
			}
		}
		for key, ids := range keys {
			if len(ids) > 1 {
				rep.violate("c", "idempotency key %q has %d events on %s: %v", key, len(ids), name, ids)
			}
		}
		journals[name] = byID
	}
	lateSteps(journals, rep)
	lateStarts(journals, rep)
	abandonedActed(s, journals, rep)
	for _, o := range s.ops {
		r := o.res
		if r.eventID != "" && journals[o.node] != nil {
			if _, ok := journals[o.node][r.eventID]; !ok {
				rep.violate("c", "op %d was answered with event %s, which the journal of %s does not have", o.n, r.eventID, o.node)
			}
		}
		if o.kind == opRepeat && r.refEvent != "" {
			switch {
			case r.outcome == outcomeSucceeded || r.outcome == outcomeFailed:
				rep.violate("c", "op %d repeated key %s (event %s) and ran again as event %s", o.n, o.key, r.refEvent, r.eventID)
			case r.outcome == outcomeDuplicate && r.eventID != r.refEvent:
				rep.violate("c", "op %d repeated key %s: answered with event %s, want the original %s", o.n, o.key, r.eventID, r.refEvent)
			}
		}
		o.res.alone = alone(s, o, journals)
		checkAlone(o, rep)
		// (e) every wait is bounded: the command ends within --wait plus
		// a margin.
		if r.overran {
			rep.violate("e", "op %d (%s to %s) was still running %s after its --wait %s and was killed", o.n, o.kind, o.node, cliMargin, cliWait)
		}
	}
}

// stepTimeout is the agents' step_timeout, the longest deadline a peer
// step can carry (the VIP's own timeout is shorter).
var stepTimeout = 5 * time.Second

// lateSteps is part of invariant (c), promise 3's "a peer never acts on a
// request whose caller gave up", checked in its strict form: a peer never
// starts work whose deadline has passed. A step that a node carried
// out for another (a peer event, origin "EVENT#STEP") must not change
// anything after the calling step timed out, nor after the longest
// deadline the call can have carried (its start plus step_timeout). A
// caller that gave up because the connection broke is not counted: the
// peer cannot know that sooner than its deadline.
func lateSteps(journals map[string]map[string]reactions.Event, rep *report) {
	for node, evs := range journals {
		for _, p := range evs {
			if p.Source != reactions.SourcePeer || p.Result == nil || len(p.Result.Steps) != 1 || p.Result.Steps[0].Outcome != reactions.OutcomeChanged {
				continue
			}
			id, idx, ok := strings.Cut(p.Origin, "#")
			i, err := strconv.Atoi(idx)
			if !ok || err != nil {
				continue
			}
			for caller, cevs := range journals {
				ev, found := cevs[id]
				if caller == node || !found || ev.Result == nil || i >= len(ev.Result.Steps) {
					continue
				}
				cs := ev.Result.Steps[i]
				deadline := cs.StartedAt.Add(stepTimeout)
				if cs.Outcome == reactions.OutcomeTimeout {
					deadline = cs.StartedAt.Add(time.Duration(cs.DurationMS * float64(time.Millisecond)))
				}
				if acted := p.Result.Steps[0].StartedAt; acted.After(deadline) {
					rep.violate("c", "%s's event %s (%s@%s, for %s's step %s, which ended %s: %s) acted %s after the call's deadline %s",
						node, p.ID, p.Result.Steps[0].Action, node, caller, p.Origin, cs.Outcome,
						oneLine(cs.Error, 100), acted.Sub(deadline).Round(time.Millisecond), deadline.Format("15:04:05.000"))
				}
			}
		}
	}
}

// lateStarts is the rest of promise 3's "no request whose caller gave up
// ever acts", at every door: an event with a deadline (every CLI command
// and peer call sends one) starts no step after it, and one accepted after
// it ends expired.
func lateStarts(journals map[string]map[string]reactions.Event, rep *report) {
	// The deadline is checked just before a step records its start.
	const slack = 50 * time.Millisecond
	for node, evs := range journals {
		for _, ev := range evs {
			if ev.Deadline.IsZero() || ev.Result == nil {
				continue
			}
			if ev.ReceivedAt.After(ev.Deadline) && ev.Status != reactions.StatusExpired {
				rep.violate("c", "%s's event %s (%s) was accepted %s after its caller's deadline and ended %s, not expired",
					node, ev.ID, ev.Alarm.Condition, ev.ReceivedAt.Sub(ev.Deadline).Round(time.Millisecond), ev.Status)
			}
			for _, st := range ev.Result.Steps {
				if st.Outcome != reactions.OutcomeSkipped && st.StartedAt.After(ev.Deadline.Add(slack)) {
					rep.violate("c", "%s's event %s (%s) started step %d (%s %s on %s) %s after its caller's deadline",
						node, ev.ID, ev.Alarm.Condition, st.Index, st.Action, st.VIP, st.Node, st.StartedAt.Sub(ev.Deadline).Round(time.Millisecond))
				}
			}
		}
	}
}

// abandonedActed is the same promise seen from the client: a request
// given up while its agent was frozen (see abandoned) never acts, whatever
// the agent journaled for it. A fire is found by its key; a failover, by
// being a failover event on that node received after the op began that no
// other op there can have sent.
func abandonedActed(s *schedule, journals map[string]map[string]reactions.Event, rep *report) {
	for _, o := range s.ops {
		if !abandoned(s, o) {
			continue
		}
		for _, ev := range journals[o.node] {
			if !ev.ReceivedAt.After(o.res.invoked) || !actedAny(ev) {
				continue
			}
			switch {
			case o.kind == opFire && ev.Alarm.ID == o.key:
			case o.kind == opFailover && ev.Source == reactions.SourceFailover && !sentByOther(s, o, ev):
			default:
				continue
			}
			rep.violate("c", "%s, given up while %s was frozen, acted when it woke: event %s %s", o, o.node, ev.ID, ev.Status)
		}
	}
}

// actedAny reports whether an event ran a step.
func actedAny(ev reactions.Event) bool {
	if ev.Result == nil {
		return false
	}
	for _, st := range ev.Result.Steps {
		if st.Outcome != reactions.OutcomeSkipped {
			return true
		}
	}
	return false
}

// sentByOther reports whether a failover op on o's node other than o, not
// itself abandoned, was under way when ev was received.
func sentByOther(s *schedule, o *op, ev reactions.Event) bool {
	for _, x := range s.ops {
		if x != o && x.kind == opFailover && x.node == o.node && !abandoned(s, x) &&
			!x.res.invoked.After(ev.ReceivedAt) && !x.res.completed.Before(ev.ReceivedAt) {
			return true
		}
	}
	return false
}

// alone reports whether o ran alone: no fault, no other operation and no
// reconcile repair between its start (less 500 ms) and the moment its
// holders were observed (or it ended).
func alone(s *schedule, o *op, journals map[string]map[string]reactions.Event) bool {
	r := o.res
	if r.invoked.IsZero() {
		return false
	}
	from, to := r.invoked.Add(-500*time.Millisecond), r.completed
	if !r.observed.IsZero() {
		to = r.observed
	}
	for _, f := range s.faults {
		if !f.start.IsZero() && f.start.Before(to) && (f.end.IsZero() || f.end.Add(time.Second).After(from)) {
			return false
		}
	}
	for _, p := range s.ops {
		if p != o && !p.res.invoked.IsZero() && p.res.invoked.Before(to) && p.res.completed.After(from) {
			return false
		}
	}
	for _, evs := range journals {
		for _, ev := range evs {
			if ev.Source != reactions.SourceReconcile {
				continue
			}
			end := time.Now()
			if ev.Result != nil && !ev.Result.FinishedAt.IsZero() {
				end = ev.Result.FinishedAt
			}
			if ev.ReceivedAt.Before(to) && end.After(from) {
				return false
			}
		}
	}
	return true
}

// checkAlone is invariant (f): an alarm move or a `failover enable X`
// that ran alone succeeded and left its target the only holder; a manual
// enable that succeeded alone did too.
func checkAlone(o *op, rep *report) {
	r := o.res
	if o.check == checkNone || !r.alone || r.outcome == outcomeDuplicate || r.outcome == outcomeSkipped {
		return
	}
	if o.check == checkEnable && r.outcome != outcomeSucceeded {
		return
	}
	switch {
	case r.outcome != outcomeSucceeded:
		rep.violate("f", "op %d (%s, alone) ended %s, want succeeded with %s the only holder: %s", o.n, o.kind, r.outcome, o.target, oneLine(r.detail, 200))
	case r.afterErr != nil:
		rep.violate("f", "op %d: cannot observe the holders after it: %v", o.n, r.afterErr)
	case len(r.after) != 1 || r.after[0] != o.target:
		rep.violate("f", "op %d (%s, alone) succeeded but left the VIP on %v, want %s only", o.n, o.kind, r.after, o.target)
	}
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return now.Sub(t).Round(time.Millisecond).String() + " ago"
}

// crashNote reports whether ev's result explains a second run (the engine
// notes a run resumed after the agent stopped mid-run).
func crashNote(ev reactions.Event) bool {
	if ev.Result == nil {
		return false
	}
	for _, n := range ev.Result.Notes {
		if strings.Contains(n, "resumed it after restart") {
			return true
		}
	}
	return false
}

// formatJournal prints a journal one event per line, oldest first.
func formatJournal(evs []reactions.Event) string {
	evs = slices.Clone(evs)
	slices.SortStableFunc(evs, func(a, b reactions.Event) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
	var b strings.Builder
	for _, ev := range evs {
		what := ev.Alarm.Condition
		if ev.Plan != nil && what == "" {
			what = ev.Plan.Reaction
		}
		fmt.Fprintf(&b, "    %s %s %-9s %-10s runs=%d", ev.ReceivedAt.Format("15:04:05.000"), ev.ID, ev.Source, ev.Status, ev.Runs)
		if what != "" {
			fmt.Fprintf(&b, " %s", what)
		}
		if ev.Key != "" {
			fmt.Fprintf(&b, " key=%s", ev.Key)
		}
		if ev.Origin != "" {
			fmt.Fprintf(&b, " origin=%s", ev.Origin)
		}
		if ev.ReplayOf != "" {
			fmt.Fprintf(&b, " replay_of=%s", ev.ReplayOf)
		}
		if ev.Result != nil {
			for _, st := range ev.Result.Steps {
				fmt.Fprintf(&b, " [%s@%s %s", st.Action, st.Node, st.Outcome)
				if st.Error != "" {
					fmt.Fprintf(&b, ": %s", oneLine(st.Error, 120))
				}
				if st.Reason != "" {
					fmt.Fprintf(&b, " (%s)", oneLine(st.Reason, 80))
				}
				b.WriteString("]")
			}
			if ev.Result.Error != "" {
				fmt.Fprintf(&b, " error: %s", oneLine(ev.Result.Error, 160))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// lockFree reports an error when some process still holds the flock a
// journal's owner takes (bbolt locks the whole file).
func lockFree(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("still locked after the agent stopped: %w", err)
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// leftovers checks invariant (d) once the schedule's cleanups ran: no
// namespace of its lab, no tmpfs, no process of the binary left (nor of
// wineExe, vipagent.exe under Wine, when set).
func (r *report) leftovers(bin, wineExe string) {
	if r.prefix != "" {
		entries, _ := os.ReadDir("/run/netns")
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), r.prefix) {
				r.violate("d", "network namespace %s left behind", e.Name())
			}
		}
	}
	if r.tmpfs != "" && mounted(r.tmpfs) {
		r.violate("d", "tmpfs %s still mounted", r.tmpfs)
	}
	for _, pid := range processesOf(bin) {
		r.violate("d", "process %d of %s left running (killed now)", pid, filepath.Base(bin))
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if wineExe == "" {
		return
	}
	for _, pid := range wineProcessesOf(wineExe) {
		r.violate("d", "process %d of %s under Wine left running (killed now)", pid, filepath.Base(wineExe))
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// wineProcessesOf lists the processes Wine runs exe in: their command
// line names it, in Linux or Windows form (their executable is Wine's
// loader).
func wineProcessesOf(exe string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		line := string(b)
		if strings.Contains(line, exe) || strings.Contains(line, winPath(exe)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// processesOf lists the processes running the executable bin.
func processesOf(bin string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == bin {
			pids = append(pids, pid)
		}
	}
	return pids
}
