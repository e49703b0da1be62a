package chaos

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// The pure parts of the lab run under a plain `go test`: the outage
// measure, the holder rule and the generator's reproducibility.

func TestLongestGap(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms ...int) []agenttest.Reply {
		var rs []agenttest.Reply
		for _, m := range ms {
			rs = append(rs, agenttest.Reply{At: t0.Add(time.Duration(m) * time.Millisecond)})
		}
		return rs
	}
	for _, tc := range []struct {
		name     string
		rs       []agenttest.Reply
		from, to int
		want     time.Duration
	}{
		{"steady answers", at(0, 1, 2, 3, 4, 5), 1, 4, time.Millisecond},
		{"gap inside", at(0, 1, 2, 50, 51), 1, 60, 48 * time.Millisecond},
		{"silence before the window counts from its start", at(0, 100, 101), 90, 101, 10 * time.Millisecond},
		{"silence past the window counts to its end", at(0, 1, 2), 1, 30, 28 * time.Millisecond},
		{"no answers at all", nil, 0, 25, 25 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := longestGap(tc.rs, t0.Add(time.Duration(tc.from)*time.Millisecond), t0.Add(time.Duration(tc.to)*time.Millisecond))
			if got != tc.want {
				t.Errorf("longestGap = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestExpectedHolders(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	o := func(target string, out outcome, from, to float64) *op {
		return &op{target: target, res: opResult{outcome: out, invoked: sec(from), completed: sec(to)}}
	}
	// off is `failover disable` in node: it releases node.
	off := func(node string, out outcome, from, to float64) *op {
		other := map[string]string{"rm1": "rm2", "rm2": "rm1"}[node]
		return &op{target: other, off: node, res: opResult{outcome: out, invoked: sec(from), completed: sec(to)}}
	}
	for _, tc := range []struct {
		name string
		ops  []*op
		want map[string]bool
	}{
		{"nothing happened: the owner", nil, map[string]bool{"rm1": true}},
		{"a later success wins", []*op{o("rm2", outcomeSucceeded, 1, 2)}, map[string]bool{"rm2": true}},
		{"a failure leaves both possible", []*op{o("rm2", outcomeFailed, 1, 2)}, map[string]bool{"rm1": true, "rm2": true}},
		{"a success after the failure ended wins", []*op{o("rm2", outcomeFailed, 1, 2), o("rm1", outcomeSucceeded, 3, 4)}, map[string]bool{"rm1": true}},
		{"overlapping successes: either", []*op{o("rm2", outcomeSucceeded, 1, 3), o("rm1", outcomeSucceeded, 2, 4)}, map[string]bool{"rm1": true, "rm2": true}},
		{"an unknown outcome stays possible", []*op{o("rm2", outcomeUnknown, 1, 2), o("rm1", outcomeSucceeded, 3, 4)}, map[string]bool{"rm1": true, "rm2": true}},
		{"duplicates and rejections are no intents", []*op{o("rm2", outcomeDuplicate, 1, 2), o("rm2", outcomeRejected, 3, 4)}, map[string]bool{"rm1": true}},
		{"a release: the other node", []*op{off("rm1", outcomeSucceeded, 1, 2)}, map[string]bool{"rm2": true}},
		{"INIT on both, one after the other: none", []*op{off("rm1", outcomeSucceeded, 1, 2), off("rm2", outcomeSucceeded, 3, 4)}, map[string]bool{none: true}},
		{"INIT on both at once: none", []*op{off("rm1", outcomeSucceeded, 1, 3), off("rm2", outcomeSucceeded, 2, 4)}, map[string]bool{none: true}},
		{"INIT on both, one of unknown outcome: none or the other node", []*op{off("rm1", outcomeSucceeded, 1, 2), off("rm2", outcomeUnknown, 3, 4)}, map[string]bool{none: true, "rm2": true}},
		{"an enable after INIT on both decides", []*op{off("rm1", outcomeSucceeded, 1, 2), off("rm2", outcomeSucceeded, 3, 4), o("rm2", outcomeSucceeded, 5, 6)}, map[string]bool{"rm2": true}},
		{"an enable between the releases: the other node", []*op{off("rm1", outcomeSucceeded, 1, 2), o("rm1", outcomeSucceeded, 3, 4), off("rm2", outcomeSucceeded, 5, 6)}, map[string]bool{"rm1": true}},
		{"a failed enable between the releases may have asked nothing", []*op{off("rm1", outcomeSucceeded, 1, 2), o("rm1", outcomeFailed, 3, 4), off("rm2", outcomeSucceeded, 5, 6)}, map[string]bool{"rm1": true, none: true}},
		{"a request abandoned while its agent was frozen is no intent", []*op{frozen(o("rm2", outcomeUnknown, 1, 8)), o("rm1", outcomeSucceeded, 9, 10)}, map[string]bool{"rm1": true}},
		{"a request given up on another node stays possible", []*op{o("rm2", outcomeUnknown, 1, 8), o("rm1", outcomeSucceeded, 9, 10)}, map[string]bool{"rm1": true, "rm2": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// rm2's agent is frozen from 0.5 s to 8.5 s.
			stop := &fault{kind: faultStop, node: "rm2", start: sec(0.5), end: sec(8.5)}
			got := expectedHolders(&schedule{ops: tc.ops, faults: []*fault{stop}}, t0)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("expectedHolders (-want +got):\n%s", diff)
			}
		})
	}
}

// frozen marks o as sent to rm2, whose agent the test freezes.
func frozen(o *op) *op {
	o.node = "rm2"
	return o
}

// Each round of the wake family freezes one agent, queues a request from
// each door to it that gives up before the wake, and asks the other node
// for a newer move in between.
func TestGenerateWake(t *testing.T) {
	s := generateWake(7, 40*time.Second)
	if len(s.faults) < 2 || len(s.ops) != 3*len(s.faults) {
		t.Fatalf("%d faults and %d ops, want rounds of one freeze and three requests", len(s.faults), len(s.ops))
	}
	for i, f := range s.faults {
		q1, q2, newer := s.ops[3*i], s.ops[3*i+1], s.ops[3*i+2]
		kinds := []opKind{q1.kind, q2.kind}
		if f.kind != faultStop || q1.node != f.node || q2.node != f.node || !slices.Contains(kinds, opFailover) || !slices.Contains(kinds, opFire) {
			t.Errorf("round %d: %s with %s and %s, want a freeze and both doors to the frozen node", i, f, q1, q2)
		}
		giveUp := cliWait + 2*time.Second
		if newer.node == f.node || newer.target != newer.node || newer.at < q2.at+giveUp-time.Second || newer.at >= f.at+f.hold {
			t.Errorf("round %d: newer move %s, want on the other node after the queued ones gave up and before the wake at +%s", i, newer, f.at+f.hold)
		}
	}
	if diff := cmp.Diff(fmt.Sprint(s.ops), fmt.Sprint(generateWake(7, 40*time.Second).ops)); diff != "" {
		t.Errorf("two wake schedules of seed 7 differ:\n%s", diff)
	}
}

func TestGenerateIsReproducible(t *testing.T) {
	a, b := generate(42, 20*time.Second), generate(42, 20*time.Second)
	if len(a.ops) == 0 || len(a.faults) == 0 {
		t.Fatalf("seed 42 made %d ops and %d faults, want some of each", len(a.ops), len(a.faults))
	}
	str := func(s *schedule) []string {
		var out []string
		for _, o := range s.ops {
			out = append(out, o.String())
		}
		for _, f := range s.faults {
			out = append(out, f.String())
		}
		return out
	}
	if diff := cmp.Diff(str(a), str(b)); diff != "" {
		t.Errorf("two schedules of seed 42 differ (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(str(a), str(generate(43, 20*time.Second))); diff == "" {
		t.Error("seeds 42 and 43 made the same schedule")
	}
}
