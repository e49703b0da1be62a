package chaos

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// opKind is a client operation: something SCS, RM or a person does.
type opKind string

const (
	// opFire: `vipagent fire --condition C --id K` to one agent, as an SCS
	// alarm reaction does.
	opFire opKind = "fire"
	// opRepeat sends an earlier fire again, same idempotency key, same
	// agent: it must execute nothing.
	opRepeat opKind = "repeat"
	// opFailover: `vipagent failover enable|disable [MEMBER]` in a node's
	// namespace, as RM's failoverscript does.
	opFailover opKind = "failover"
	// opEnable: `vipagent vip enable rm-vip` to one agent, by hand.
	opEnable opKind = "enable"
	// opReplay: `vipagent replay ID` of an earlier operation's event.
	opReplay opKind = "replay"
)

// faultKind is what the nemesis does to the pair.
type faultKind string

const (
	faultKill      faultKind = "kill"      // SIGKILL the agent, restart it after the hold
	faultStop      faultKind = "stop"      // SIGSTOP the agent, SIGCONT after the hold
	faultPartition faultKind = "partition" // rm1 and rm2 cannot reach each other; the client reaches both
	faultLinkDown  faultKind = "linkdown"  // one node's vip0 down: it reaches nobody
	faultLoss      faultKind = "loss"      // nftables drops a share of one node's packets
	faultDelay     faultKind = "delay"     // the peer path delays every chunk
	faultStall     faultKind = "stall"     // the peer path accepts but forwards nothing
	faultCut       faultKind = "cut"       // the peer path closes every connection
	faultDiskFull  faultKind = "diskfull"  // the tmpfs under one journal is full
)

// faultKinds in the order the outage table lists them.
var faultKinds = []faultKind{faultKill, faultStop, faultPartition, faultLinkDown, faultLoss, faultDelay, faultStall, faultCut, faultDiskFull}

var conditions = []string{"RM1_Stopped", "RM1_Unexpected_Stop", "RM2_Stopped", "RM2_Unexpected_Stop"}

// op is one client operation of a schedule, with what became of it.
type op struct {
	n    int
	at   time.Duration // offset from the schedule's start
	kind opKind
	// node is the agent the operation goes to; for failover, the node
	// whose namespace runs the command (and whose agent or journal
	// serves it).
	node      string
	condition string // fire, repeat
	key       string // fire, repeat: the idempotency key
	action    string // failover: enable or disable
	member    int    // failover: 0 for none
	ref       int    // repeat, replay: the earlier op's n
	// target is the node the operation means to leave holding the VIP
	// ("" for an operation that expresses no intent); see expectedHolders.
	target string
	// off is, for a release (`failover disable`, or a replay of one), the
	// node it releases; its target is then the other node, unless the
	// other node was released too (INIT on both: none until an enable).
	off string
	// check is what invariant (f) expects of the operation when it runs
	// alone: no fault, no other operation, no reconcile repair at the time.
	check moveCheck

	// What happened, filled in as it runs.
	res opResult
}

// moveCheck says what an operation that ran alone must have done.
type moveCheck string

const (
	checkNone moveCheck = ""
	// checkMove: it succeeded and left its target the only holder (alarm
	// moves and `failover enable X`, which means "X and only X").
	checkMove moveCheck = "move"
	// checkEnable: if it succeeded, its target is the only holder (a
	// manual enable may fail by design while the other node holds the VIP).
	checkEnable moveCheck = "enable"
)

// opResult is what the harness learnt of an operation.
type opResult struct {
	invoked, completed time.Time
	outcome            outcome
	exit               int
	eventID            string
	duplicate          bool
	status             string
	detail             string
	// overran is set when the command outlived its --wait plus margin
	// and had to be killed.
	overran bool
	// refEvent is, for a repeat, the event its original got, if the
	// original had completed with one when the repeat was sent.
	refEvent string
	// after are the holders observed right after a succeeded operation
	// with a check, at observed (afterErr if they could not be).
	after    []string
	afterErr error
	observed time.Time
	// alone is set by the checks: no fault, no other operation and no
	// reconcile repair overlapped it.
	alone bool
	// outage is the client-observed outage of a move that ran alone.
	outage time.Duration
	// ownConfig is set when the command refused its own configuration:
	// the harness ran it wrong (every schedule's configurations are
	// valid), so the operation tested nothing.
	ownConfig bool
}

// outcome classifies an operation's result for the holder invariant.
type outcome string

const (
	// outcomeSucceeded: the event ran and every step ended as asked.
	outcomeSucceeded outcome = "succeeded"
	// outcomeFailed: the event was accepted and ended failed, timeout or
	// superseded: some of its steps may have taken effect.
	outcomeFailed outcome = "failed"
	// outcomeDuplicate: answered from the journal, nothing executed.
	outcomeDuplicate outcome = "duplicate"
	// outcomeRejected: certainly not accepted (bad request, unmatched,
	// connection refused).
	outcomeRejected outcome = "rejected"
	// outcomeUnknown: the harness could not learn the outcome (timeout,
	// killed, 5xx, 202): it may take effect at any later time.
	outcomeUnknown outcome = "unknown"
	// outcomeSkipped: the operation had nothing to act on (a replay of an
	// operation that produced no event).
	outcomeSkipped outcome = "skipped"
)

// fault is one fault of a schedule.
type fault struct {
	n    int
	at   time.Duration
	hold time.Duration
	kind faultKind
	// node is the node it hits; for delay, stall and cut the node whose
	// outgoing peer calls suffer ("both" for both directions).
	node  string
	loss  int           // loss: percent dropped
	delay time.Duration // delay: per chunk

	start, end time.Time
	err        string
	// outage is the client-observed outage in the fault's window.
	outage time.Duration
}

// schedule is one seeded run: client operations and faults on one
// timeline. At most one fault is active at a time, as in Pacemaker's CTS;
// client operations run concurrently with each other and with the fault.
type schedule struct {
	// mu guards the ops' results: operations run concurrently, and a
	// replay or repeat reads its original's.
	mu        sync.Mutex
	seed      uint64
	tmpfsNode string
	ops       []*op
	faults    []*fault
}

// generate makes the schedule of seed, lasting about d. The same seed
// always gives the same schedule (timings of the real processes vary, as
// in Jepsen).
func generate(seed uint64, d time.Duration) *schedule {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s := &schedule{seed: seed, tmpfsNode: pick(r, "rm1", "rm2")}
	nodes := []string{"rm1", "rm2"}
	other := map[string]string{"rm1": "rm2", "rm2": "rm1"}
	memberNode := map[int]string{1: "rm1", 2: "rm2"}
	faultFree := 500 * time.Millisecond // no fault before the pair has served a little
	for at := 200 * time.Millisecond; at < d; at += between(r, 100*time.Millisecond, 1500*time.Millisecond) {
		if at >= faultFree && r.IntN(100) < 35 {
			f := &fault{n: len(s.faults), at: at, kind: faultKinds[r.IntN(len(faultKinds))], node: pick(r, nodes...)}
			f.hold = between(r, 500*time.Millisecond, 6*time.Second)
			switch f.kind {
			case faultKill:
				f.hold = between(r, 100*time.Millisecond, 3*time.Second)
			case faultStop:
				f.hold = between(r, 100*time.Millisecond, 10*time.Second)
			case faultLoss:
				f.loss = 20 + r.IntN(61)
			case faultDelay:
				f.delay = between(r, 50*time.Millisecond, 4*time.Second)
				fallthrough
			case faultStall, faultCut:
				if r.IntN(3) == 0 {
					f.node = "both"
				}
			case faultDiskFull:
				f.node = s.tmpfsNode
			case faultPartition:
				f.node = "both"
			}
			s.faults = append(s.faults, f)
			faultFree = at + f.hold + between(r, 200*time.Millisecond, 2*time.Second)
			continue
		}
		if r.IntN(100) < 8 {
			// Opposite moves at the same moment: each agent is asked to
			// take the VIP from the other.
			for _, to := range nodes {
				o := &op{n: len(s.ops), at: at, kind: opFire, node: to, target: to, check: checkMove}
				o.condition = "RM2_Unexpected_Stop"
				if to == "rm2" {
					o.condition = "RM1_Unexpected_Stop"
				}
				o.key = fmt.Sprintf("chaos-%d-%d", seed, o.n)
				s.ops = append(s.ops, o)
			}
			continue
		}
		o := &op{n: len(s.ops), at: at, node: pick(r, nodes...)}
		var earlier []*op
		for _, e := range s.ops {
			if e.kind != opRepeat {
				earlier = append(earlier, e)
			}
		}
		var fires []*op
		for _, e := range earlier {
			if e.kind == opFire {
				fires = append(fires, e)
			}
		}
		switch k := r.IntN(100); {
		case k < 15 && len(fires) > 0:
			ref := fires[r.IntN(len(fires))]
			o.kind, o.ref, o.node, o.condition, o.key, o.target, o.check = opRepeat, ref.n, ref.node, ref.condition, ref.key, ref.target, ref.check
		case k < 30 && len(earlier) > 0:
			ref := earlier[r.IntN(len(earlier))]
			o.kind, o.ref, o.node, o.target, o.check, o.condition, o.off = opReplay, ref.n, ref.node, ref.target, ref.check, ref.condition, ref.off
		case k < 50:
			o.kind = opFailover
			o.action = "enable"
			if r.IntN(100) < 30 {
				o.action = "disable"
			}
			o.member = r.IntN(3)
			on := o.node
			if o.member != 0 {
				on = memberNode[o.member]
			}
			o.target, o.check = on, checkMove
			if o.action == "disable" {
				// Releases this host only, whatever the member says, as
				// INIT.bat does; reconcile gives the VIP to the other node
				// afterwards, unless that one was released too.
				o.target, o.off, o.check = other[o.node], o.node, checkNone
			}
		case k < 60:
			o.kind, o.target, o.check = opEnable, o.node, checkEnable
		default:
			o.kind, o.check = opFire, checkMove
			o.condition = conditions[r.IntN(len(conditions))]
			o.key = fmt.Sprintf("chaos-%d-%d", seed, o.n)
			// The stopped RM's node loses the VIP; the survivor gets it.
			o.target = "rm2"
			if strings.HasPrefix(o.condition, "RM2") {
				o.target = "rm1"
			}
		}
		s.ops = append(s.ops, o)
	}
	// INIT.bat on both nodes at once, in a third of the schedules: none
	// until an enable or an alarm move. Drawn from a source of its own, so
	// the rest of a seed's schedule is what it was without it.
	ri := rand.New(rand.NewPCG(seed, seed^0x494e4954))
	if ri.IntN(3) == 0 {
		at := between(ri, d/4, d)
		for _, n := range nodes {
			s.ops = append(s.ops, &op{n: len(s.ops), at: at, kind: opFailover, node: n, action: "disable", target: other[n], off: n})
		}
	}
	return s
}

// Schedule families: what generate's schedules are made of.
const (
	// familyMixed: every kind of operation and fault at random.
	familyMixed = "mixed"
	// familyWake: wake after freeze with queued requests from both doors.
	// One agent is frozen (SIGSTOP); RM's failoverscript on its node (the
	// CLI door) and an alarm over HTTP (--agent) ask it to take the VIP and
	// give up at their deadline; then the other node is asked for a newer
	// move; then the frozen agent wakes and finds the abandoned requests in
	// its backlog. They must end expired and never act: the newer move
	// holds (see abandoned and lateStarts).
	familyWake = "wake"
)

// generateWake makes a schedule of family wake lasting about d.
func generateWake(seed uint64, d time.Duration) *schedule {
	r := rand.New(rand.NewPCG(seed, seed^0x3c6ef372fe94f82b))
	s := &schedule{seed: seed, tmpfsNode: pick(r, "rm1", "rm2")}
	other := map[string]string{"rm1": "rm2", "rm2": "rm1"}
	member := map[string]int{"rm1": 1, "rm2": 2}
	stopped := map[string]string{"rm1": "RM1_Stopped", "rm2": "RM2_Stopped"}
	// The abandoned requests give up after cliWait plus the CLI's 2 s
	// margin; the newer move comes after that, the wake after both.
	giveUp := cliWait + 2*time.Second
	for at := 500 * time.Millisecond; at < d; {
		x := pick(r, "rm1", "rm2")
		y := other[x]
		hold := giveUp + between(r, 1500*time.Millisecond, 3*time.Second)
		s.faults = append(s.faults, &fault{n: len(s.faults), at: at, hold: hold, kind: faultStop, node: x})
		queued := []*op{
			// RM's failoverscript on the frozen node: the CLI door.
			{kind: opFailover, node: x, action: "enable", member: member[x], target: x, check: checkMove},
			// An alarm over HTTP asking for the frozen node.
			{kind: opFire, node: x, condition: stopped[y], target: x, check: checkMove},
		}
		r.Shuffle(len(queued), func(i, j int) { queued[i], queued[j] = queued[j], queued[i] })
		for i, o := range queued {
			o.at = at + 200*time.Millisecond + time.Duration(i)*between(r, 10*time.Millisecond, 400*time.Millisecond)
		}
		newer := &op{kind: opFailover, node: y, action: "enable", member: member[y], target: y, check: checkMove,
			at: at + giveUp + 700*time.Millisecond}
		if r.IntN(2) == 0 {
			newer = &op{kind: opFire, node: y, condition: stopped[x], target: y, check: checkMove, at: newer.at}
		}
		for _, o := range append(queued, newer) {
			o.n = len(s.ops)
			if o.kind == opFire {
				o.key = fmt.Sprintf("chaos-%d-%d", seed, o.n)
			}
			s.ops = append(s.ops, o)
		}
		at += hold + between(r, 3*time.Second, 5*time.Second)
	}
	return s
}

// abandoned reports whether o was given up while its agent was frozen the
// whole time: invoked after the agent was stopped, it ended (the command
// gave up at its deadline) before the agent was woken. Its agent cannot
// have started it before the deadline, so it must never act.
func abandoned(s *schedule, o *op) bool {
	if o.res.outcome != outcomeUnknown || o.res.overran || o.res.invoked.IsZero() {
		return false
	}
	for _, f := range s.faults {
		if f.kind == faultStop && f.node == o.node && !f.start.IsZero() && !f.end.IsZero() &&
			f.start.Before(o.res.invoked) && o.res.completed.Before(f.end) {
			return true
		}
	}
	return false
}

func pick(r *rand.Rand, xs ...string) string { return xs[r.IntN(len(xs))] }

func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

func (o *op) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "op %d +%s %s", o.n, o.at.Round(time.Millisecond), o.kind)
	switch o.kind {
	case opFire:
		fmt.Fprintf(&b, " %s key %s to %s", o.condition, o.key, o.node)
	case opRepeat:
		fmt.Fprintf(&b, " of op %d (%s key %s) to %s", o.ref, o.condition, o.key, o.node)
	case opReplay:
		fmt.Fprintf(&b, " of op %d on %s", o.ref, o.node)
	case opFailover:
		fmt.Fprintf(&b, " %s", o.action)
		if o.member != 0 {
			fmt.Fprintf(&b, " %d", o.member)
		}
		fmt.Fprintf(&b, " in %s", o.node)
	case opEnable:
		fmt.Fprintf(&b, " on %s", o.node)
	}
	switch {
	case o.off != "":
		fmt.Fprintf(&b, " (intent: off %s)", o.off)
	case o.target != "":
		fmt.Fprintf(&b, " (intent: %s)", o.target)
	}
	r := o.res
	if r.outcome != "" {
		fmt.Fprintf(&b, " -> %s", r.outcome)
		if r.status != "" {
			fmt.Fprintf(&b, " status=%s", r.status)
		}
		if r.eventID != "" {
			fmt.Fprintf(&b, " event=%s", r.eventID)
		}
		fmt.Fprintf(&b, " exit=%d in %s", r.exit, r.completed.Sub(r.invoked).Round(time.Millisecond))
		if r.overran {
			b.WriteString(" OVERRAN")
		}
		if !r.observed.IsZero() {
			fmt.Fprintf(&b, " holders after: %v", r.after)
		}
		if r.alone {
			b.WriteString(" (alone)")
		}
		if r.outage > 0 {
			fmt.Fprintf(&b, " outage %.1f ms", ms(r.outage))
		}
		if r.detail != "" {
			fmt.Fprintf(&b, ": %s", r.detail)
		}
	}
	return b.String()
}

func (f *fault) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fault %d +%s %s on %s for %s", f.n, f.at.Round(time.Millisecond), f.kind, f.node, f.hold.Round(time.Millisecond))
	if f.loss > 0 {
		fmt.Fprintf(&b, " (%d%% loss)", f.loss)
	}
	if f.delay > 0 {
		fmt.Fprintf(&b, " (%s per chunk)", f.delay.Round(time.Millisecond))
	}
	if f.outage > 0 {
		fmt.Fprintf(&b, ", outage %.1f ms", ms(f.outage))
	}
	if f.err != "" {
		fmt.Fprintf(&b, " ERROR %s", f.err)
	}
	return b.String()
}

// none is the key of expectedHolders that allows no holder at all.
const none = "none"

// expectedHolders is the rule for invariant (a): which nodes may hold the
// VIP once things settle (none: no node may, too).
//
// Every operation with a target is an intent: fire RMn_* means "the other
// node", failover enable X and vip enable on X mean X, failover disable in
// node N releases N and means "the node that is not N", a replay or a
// non-duplicate repeat means what its original meant. The initial
// placement is an intent for the configured owner (rm1) that succeeded.
//
// An intent that succeeded, failed (some steps may have acted) or whose
// outcome is unknown could be the one that took effect last, unless a
// later intent certainly superseded it: one that succeeded and was invoked
// after the first had completed. An unknown outcome never completes: like
// Jepsen's indeterminate operations it may take effect at any time.
// Duplicates, rejections, skips and requests abandoned while their agent
// was frozen (see abandoned: they must never act) are not intents.
//
// A release is "the other node" unless the other node was released since
// the newest enable (INIT on both nodes): then no node may hold the VIP
// until an enable. So a release allows none when a release of the other
// node may have come before it with no enable certainly in between, and it
// does not allow the other node when such a release certainly happened
// (succeeded) with no enable possibly among the two. Every intent is
// journaled at a moment between its invocation and its completion, which
// orders them.
func expectedHolders(s *schedule, initial time.Time) map[string]bool {
	type intent struct {
		invoked, completed time.Time
		target, off        string
		succeeded, open    bool
	}
	intents := []intent{{invoked: initial, completed: initial, target: "rm1", succeeded: true}}
	for _, o := range s.ops {
		if o.target == "" || abandoned(s, o) {
			continue
		}
		switch o.res.outcome {
		case outcomeSucceeded, outcomeFailed, outcomeUnknown:
			intents = append(intents, intent{
				invoked: o.res.invoked, completed: o.res.completed, target: o.target, off: o.off,
				succeeded: o.res.outcome == outcomeSucceeded, open: o.res.outcome == outcomeUnknown,
			})
		}
	}
	// enableBetween reports whether an enable certainly (possibly: maybe)
	// was journaled between releases b and a. Only a success is certainly
	// journaled: a failed event may have ended superseded, which asks
	// nothing.
	enableBetween := func(b, a intent, possibly bool) bool {
		from, to := b.invoked, a.completed
		if possibly {
			from, to = minTime(a.invoked, b.invoked), maxTime(a.completed, b.completed)
		}
		for _, e := range intents {
			switch {
			case e.off != "":
			case possibly && e.invoked.Before(to) && e.completed.After(from):
				return true
			case !possibly && e.succeeded && e.invoked.After(b.completed) && e.completed.Before(a.invoked):
				return true
			}
		}
		return false
	}
	want := map[string]bool{}
	for _, a := range intents {
		superseded, byEnable := false, false
		for _, b := range intents {
			if b.succeeded && !a.open && b.invoked.After(a.completed) {
				superseded = true
				byEnable = byEnable || b.off == ""
			}
		}
		if a.off == "" {
			if !superseded {
				want[a.target] = true
			}
			continue
		}
		otherToo, certainly := false, false
		for _, b := range intents {
			if b.off == "" || b.off == a.off {
				continue
			}
			if b.invoked.Before(a.completed) && !enableBetween(b, a, false) {
				otherToo = true
			}
			// Both journaled, in whichever order, and no enable among
			// them: the other node cannot be the newest move's owner.
			if b.succeeded && !enableBetween(b, a, true) {
				certainly = true
			}
		}
		if otherToo && !byEnable {
			// A release of the other node may be the newest move too.
			want[none] = true
		}
		if !superseded && !certainly {
			want[a.target] = true
		}
	}
	return want
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
