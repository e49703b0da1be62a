package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/peer"
	"github.com/vipagent/vipagent/agent/reconcile"
	"github.com/vipagent/vipagent/reactions"
)

var t0 = time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)

func step(action reactions.Action, node string, outcome reactions.Outcome, minute int) reactions.StepResult {
	return reactions.StepResult{Action: action, VIP: "vip", Node: node, Outcome: outcome, StartedAt: t0.Add(time.Duration(minute) * time.Minute)}
}

func TestDesiredOwner(t *testing.T) {
	const (
		en  = reactions.ActionEnable
		dis = reactions.ActionDisable
		ch  = reactions.OutcomeChanged
		un  = reactions.OutcomeUnchanged
	)
	tests := []struct {
		name       string
		lasts      []reactions.StepResult
		configured string
		want       string
	}{
		{"nothing journaled: configured owner", nil, "rm1", "rm1"},
		{"nothing journaled, no owner: nobody", nil, "", ""},
		{"enable decides", []reactions.StepResult{step(en, "rm2", ch, 1)}, "rm1", "rm2"},
		{"unchanged enable is success too", []reactions.StepResult{step(en, "rm2", un, 1)}, "rm1", "rm2"},
		{"failed steps do not count", []reactions.StepResult{step(en, "rm2", reactions.OutcomeFailed, 1)}, "rm1", "rm1"},
		{"timed-out steps do not count", []reactions.StepResult{step(en, "rm2", reactions.OutcomeTimeout, 1)}, "rm1", "rm1"},
		{"latest enable wins across journals", []reactions.StepResult{step(en, "rm1", ch, 1), step(en, "rm2", ch, 2)}, "rm1", "rm2"},
		// Genesys: the new active RM enabled itself, then SCS's reaction
		// disabled the stopped one.
		{"disable after the other's enable keeps the other", []reactions.StepResult{step(dis, "rm1", ch, 2), step(en, "rm2", ch, 1)}, "rm1", "rm2"},
		{"disable on the configured owner: the pair's other node takes it", []reactions.StepResult{step(dis, "rm1", ch, 2)}, "rm1", "rm2"},
		{"disable on another node: configured owner", []reactions.StepResult{step(dis, "rm2", ch, 2)}, "rm1", "rm1"},
		{"the owner's own earlier enable does not outlive its disable", []reactions.StepResult{step(en, "rm1", ch, 1), step(dis, "rm1", ch, 2)}, "rm2", "rm2"},
		{"run steps and empty nodes are ignored", []reactions.StepResult{{Action: reactions.ActionRun, Node: "rm2", Outcome: ch, StartedAt: t0}, {Action: en, Outcome: ch, StartedAt: t0}}, "rm1", "rm1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := reconcile.DesiredOwner(tt.lasts, nil, []string{"rm1", "rm2"}, tt.configured)
			if got != tt.want {
				t.Errorf("DesiredOwner = %q (%s), want %q", got, why, tt.want)
			}
			if why == "" {
				t.Error("no reason given")
			}
		})
	}
}

// Intents count whatever came of them: the newest move asked decides.
func TestDesiredOwnerIntents(t *testing.T) {
	at := func(minute int) time.Time { return t0.Add(time.Duration(minute) * time.Minute) }
	tests := []struct {
		name    string
		lasts   []reactions.StepResult
		intents []reactions.VIPIntent
		want    string
	}{
		{"an enable that could not run still names the owner",
			[]reactions.StepResult{step(reactions.ActionEnable, "rm1", reactions.OutcomeChanged, 1)},
			[]reactions.VIPIntent{{EventID: "rm2-e", At: at(2), On: "rm2"}}, "rm2"},
		{"an older intent loses to a newer successful action",
			[]reactions.StepResult{step(reactions.ActionEnable, "rm1", reactions.OutcomeChanged, 3)},
			[]reactions.VIPIntent{{EventID: "rm2-e", At: at(2), On: "rm2"}}, "rm1"},
		{"off one node: the newest earlier move elsewhere",
			nil,
			[]reactions.VIPIntent{{At: at(1), On: "rm2"}, {At: at(2), Off: []string{"rm1"}}}, "rm2"},
		{"off everywhere: nobody",
			nil,
			[]reactions.VIPIntent{{At: at(2), Off: []string{"rm1", "rm2"}}}, ""},
		// INIT.bat on both nodes, one after the other: none until RM elects.
		{"off each node in turn: nobody",
			[]reactions.StepResult{step(reactions.ActionDisable, "rm1", reactions.OutcomeChanged, 2), step(reactions.ActionDisable, "rm2", reactions.OutcomeUnchanged, 3)},
			[]reactions.VIPIntent{{At: at(2), Off: []string{"rm1"}}, {At: at(3), Off: []string{"rm2"}}}, ""},
		{"an enable after releasing both decides",
			nil,
			[]reactions.VIPIntent{{At: at(2), Off: []string{"rm1"}}, {At: at(3), Off: []string{"rm2"}}, {At: at(4), On: "rm2"}}, "rm2"},
		{"a release older than the newest enable does not count",
			nil,
			[]reactions.VIPIntent{{At: at(1), Off: []string{"rm2"}}, {At: at(2), On: "rm1"}, {At: at(3), Off: []string{"rm1"}}}, "rm2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := reconcile.DesiredOwner(tt.lasts, tt.intents, []string{"rm1", "rm2"}, "rm1")
			if got != tt.want {
				t.Errorf("DesiredOwner = %q (%s), want %q", got, why, tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		holders, unknown []string
		owner            string
		want             reconcile.Kind
	}{
		{[]string{"rm1"}, nil, "rm1", reconcile.KindOK},
		{[]string{"rm2"}, nil, "", reconcile.KindOK},
		{[]string{"rm2"}, nil, "rm1", reconcile.KindWrong},
		{nil, nil, "rm1", reconcile.KindNone},
		{nil, nil, "", reconcile.KindNone},
		{[]string{"rm1", "rm2"}, nil, "rm1", reconcile.KindBoth},
		{[]string{"rm1", "rm2"}, []string{"rm3"}, "rm1", reconcile.KindBoth},
		{[]string{"rm1"}, []string{"rm2"}, "rm1", reconcile.KindUnknown},
		{nil, []string{"rm2"}, "rm1", reconcile.KindUnknown},
	}
	for _, tt := range tests {
		if got := reconcile.Classify(tt.holders, tt.unknown, tt.owner); got != tt.want {
			t.Errorf("Classify(%v, %v, %q) = %s, want %s", tt.holders, tt.unknown, tt.owner, got, tt.want)
		}
	}
}

// world is a recording fake of the nodes, the journal and the engine.
type world struct {
	t       *testing.T
	mu      sync.Mutex
	present map[string]bool // node -> VIP present
	down    map[string]bool // node -> cannot be observed
	absent  map[string]bool // node -> does not manage the VIP
	lasts   map[string]*reactions.StepResult
	intents map[string]*reactions.VIPIntent
	submits []*reactions.Event
	failing bool
	drifts  []reconcile.Kind
	// statuses are the journaled statuses of submitted events by ID.
	statuses map[string]reactions.Status
	// busy marks nodes with an unfinished move of the VIP; churn, nodes
	// where a move starts (and ends) at every reading of their moves.
	busy, churn map[string]bool
	started     map[string]uint64
}

// moves is node's engine's Moves, as the world stands.
func (w *world) moves(node string) reactions.Moves {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.churn[node] {
		w.started[node]++
	}
	return reactions.Moves{Started: w.started[node], Busy: w.busy[node]}
}

func (w *world) VIP(ctx context.Context, node, vip string) (peer.VIP, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if vip != "vip" {
		w.t.Errorf("unexpected observation of vip %q on %s", vip, node)
	}
	switch {
	case w.down[node]:
		return peer.VIP{}, fmt.Errorf("node %s: %w", node, reactions.ErrUnreachable)
	case w.absent[node]:
		return peer.VIP{}, fmt.Errorf("node %s: %w", node, reactions.ErrNotFound)
	}
	return peer.VIP{State: reactions.VIPState{Present: w.present[node]}, LastAction: w.lasts[node], Intent: w.intents[node], Moving: w.busy[node] || w.churn[node]}, nil
}

func (w *world) reconciler(node string, v reconcile.VIP) *reconcile.Reconciler {
	return reconcile.New(reconcile.Config{
		Node:  node,
		Nodes: []string{"rm1", "rm2"},
		VIPs:  map[string]reconcile.VIP{"vip": v},
		Local: func(ctx context.Context, vip string) (reactions.VIPState, error) {
			st, err := w.VIP(ctx, node, vip)
			return st.State, err
		},
		Peers: w,
		LastActions: func() (map[string]journal.LastAction, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if s := w.lasts[node]; s != nil {
				return map[string]journal.LastAction{"vip": {EventID: "e", Step: *s}}, nil
			}
			return map[string]journal.LastAction{}, nil
		},
		LastIntents: func() (map[string]reactions.VIPIntent, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if in := w.intents[node]; in != nil {
				return map[string]reactions.VIPIntent{"vip": *in}, nil
			}
			return nil, nil
		},
		Moves: func(string) reactions.Moves { return w.moves(node) },
		Submit: func(ev *reactions.Event) (*reactions.Event, bool, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.failing {
				return nil, false, fmt.Errorf("%w: disk full", reactions.ErrUnavailable)
			}
			w.submits = append(w.submits, ev)
			stored := *ev
			stored.ID = fmt.Sprintf("%s-%d", node, len(w.submits))
			return &stored, false, nil
		},
		OnDrift: func(k reconcile.Kind) { w.drifts = append(w.drifts, k) },
		Status: func(id string) (reactions.Status, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if st, ok := w.statuses[id]; ok {
				return st, nil
			}
			return reactions.StatusRunning, nil
		},
		Logger: zerolog.Nop(),
	})
}

func (w *world) set(node string, present bool) {
	w.mu.Lock()
	w.present[node] = present
	w.mu.Unlock()
}

func newWorld(t *testing.T, rm1, rm2 bool) *world {
	return &world{t: t, present: map[string]bool{"rm1": rm1, "rm2": rm2}, down: map[string]bool{}, absent: map[string]bool{}, lasts: map[string]*reactions.StepResult{}, intents: map[string]*reactions.VIPIntent{},
		busy: map[string]bool{}, churn: map[string]bool{}, started: map[string]uint64{}}
}

// journalMove records, as node's journal would, an event of node's that
// moved the VIP at minute: its successful step and its intent.
func (w *world) journalMove(node string, action reactions.Action, minute int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := step(action, node, reactions.OutcomeChanged, minute)
	w.lasts[node] = &s
	in := reactions.VIPIntent{EventID: fmt.Sprintf("%s-move-%d", node, minute), At: s.StartedAt}
	if action == reactions.ActionEnable {
		in.On = node
	} else {
		in.Off = []string{node}
	}
	w.intents[node] = &in
	w.present[node] = action == reactions.ActionEnable
}

func pass(t *testing.T, r *reconcile.Reconciler) reconcile.State {
	t.Helper()
	sts, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 {
		t.Fatalf("%d states, want 1", len(sts))
	}
	return sts[0]
}

var ignoreWhy = cmpopts.IgnoreFields(reconcile.State{}, "Why")

func TestDriftScenarios(t *testing.T) {
	tests := []struct {
		name       string
		rm1, rm2   bool
		owner      string
		autoFix    bool
		wantState  reconcile.State
		wantLabels map[string]string
		wantPlan   *reactions.Plan
	}{
		{
			name: "both, reported", rm1: true, rm2: true, owner: "rm1",
			wantState:  reconcile.State{VIP: "vip", Kind: reconcile.KindBoth, Holders: []string{"rm1", "rm2"}, Owner: "rm1", Reporter: "rm1", EventID: "rm1-1"},
			wantLabels: map[string]string{"vip": "vip", "kind": "both", "nodes": "rm1,rm2", "owner": "rm1", "auto_fix": "false"},
		},
		{
			name: "both, fixed", rm1: true, rm2: true, owner: "rm1", autoFix: true,
			wantState:  reconcile.State{VIP: "vip", Kind: reconcile.KindBoth, Holders: []string{"rm1", "rm2"}, Owner: "rm1", Reporter: "rm1", EventID: "rm1-1"},
			wantLabels: map[string]string{"vip": "vip", "kind": "both", "nodes": "rm1,rm2", "owner": "rm1", "auto_fix": "true"},
			wantPlan: &reactions.Plan{Reaction: reconcile.Reaction, Steps: []reactions.Step{
				{Action: reactions.ActionDisable, VIP: "vip", Node: "rm2", When: []reactions.Condition{reactions.WhenAlways}},
				{Action: reactions.ActionEnable, VIP: "vip", Node: "rm1", When: []reactions.Condition{reactions.WhenReleased}},
			}},
		},
		{
			name: "none, fixed", owner: "rm1", autoFix: true,
			wantState:  reconcile.State{VIP: "vip", Kind: reconcile.KindNone, Owner: "rm1", Reporter: "rm1", EventID: "rm1-1"},
			wantLabels: map[string]string{"vip": "vip", "kind": "none", "nodes": "-", "owner": "rm1", "auto_fix": "true"},
			wantPlan: &reactions.Plan{Reaction: reconcile.Reaction, Steps: []reactions.Step{
				{Action: reactions.ActionEnable, VIP: "vip", Node: "rm1", When: []reactions.Condition{reactions.WhenReleased}},
			}},
		},
		{
			name: "wrong, reported", rm2: true, owner: "rm1",
			wantState:  reconcile.State{VIP: "vip", Kind: reconcile.KindWrong, Holders: []string{"rm2"}, Owner: "rm1", Reporter: "rm1", EventID: "rm1-1"},
			wantLabels: map[string]string{"vip": "vip", "kind": "wrong", "nodes": "rm2", "owner": "rm1", "auto_fix": "false"},
		},
		{
			name: "wrong, fixed", rm2: true, owner: "rm1", autoFix: true,
			wantState:  reconcile.State{VIP: "vip", Kind: reconcile.KindWrong, Holders: []string{"rm2"}, Owner: "rm1", Reporter: "rm1", EventID: "rm1-1"},
			wantLabels: map[string]string{"vip": "vip", "kind": "wrong", "nodes": "rm2", "owner": "rm1", "auto_fix": "true"},
			wantPlan: &reactions.Plan{Reaction: reconcile.Reaction, Steps: []reactions.Step{
				{Action: reactions.ActionDisable, VIP: "vip", Node: "rm2", When: []reactions.Condition{reactions.WhenAlways}},
				{Action: reactions.ActionEnable, VIP: "vip", Node: "rm1", When: []reactions.Condition{reactions.WhenReleased}},
			}},
		},
		{
			name: "ok", rm1: true, owner: "rm1", autoFix: true,
			wantState: reconcile.State{VIP: "vip", Kind: reconcile.KindOK, Holders: []string{"rm1"}, Owner: "rm1", Reporter: "rm1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, tt.rm1, tt.rm2)
			r := w.reconciler("rm1", reconcile.VIP{Owner: tt.owner, AutoFix: tt.autoFix})
			first := pass(t, r)
			if len(w.submits) != 0 {
				t.Fatalf("first sighting journaled %d events; a drift is confirmed by a second pass first", len(w.submits))
			}
			if first.Kind != tt.wantState.Kind {
				t.Errorf("first pass kind %s, want %s", first.Kind, tt.wantState.Kind)
			}
			got := pass(t, r)
			if diff := cmp.Diff(tt.wantState, got, ignoreWhy); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
			// The same drift again is not journaled again.
			pass(t, r)
			pass(t, r)
			if !tt.wantState.Kind.Drift() {
				if len(w.submits) != 0 {
					t.Errorf("journaled %d events without drift", len(w.submits))
				}
				return
			}
			if len(w.submits) != 1 {
				t.Fatalf("journaled %d events, want 1", len(w.submits))
			}
			ev := w.submits[0]
			if ev.Source != reactions.SourceReconcile || ev.Alarm.Condition != reconcile.Condition {
				t.Errorf("event source %s condition %s", ev.Source, ev.Alarm.Condition)
			}
			if err := ev.Alarm.Validate(); err != nil {
				t.Errorf("drift alarm invalid: %v", err)
			}
			if diff := cmp.Diff(tt.wantLabels, ev.Alarm.Labels); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPlan, ev.Plan); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]reconcile.Kind{tt.wantState.Kind}, w.drifts); diff != "" {
				t.Errorf("drift hook (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDriftMemory(t *testing.T) {
	w := newWorld(t, true, true)
	r := w.reconciler("rm1", reconcile.VIP{Owner: "rm1"})
	pass(t, r)
	pass(t, r) // both: journaled
	w.set("rm2", false)
	if st := pass(t, r); st.Kind != reconcile.KindOK {
		t.Fatalf("kind %s after the fix, want ok", st.Kind)
	}
	w.set("rm1", false)
	pass(t, r)
	pass(t, r) // none: a new state, journaled
	w.set("rm2", true)
	pass(t, r)
	pass(t, r) // wrong: a new state, journaled
	var kinds []string
	for _, ev := range w.submits {
		kinds = append(kinds, ev.Alarm.Labels["kind"])
	}
	if diff := cmp.Diff([]string{"both", "none", "wrong"}, kinds); diff != "" {
		t.Errorf("journaled drifts (-want +got):\n%s", diff)
	}
}

// A repair that did not succeed (a fault not healed yet) is tried again by
// the next pass that still sees the drift; a running or successful one is
// not repeated.
func TestFailedRepairRetried(t *testing.T) {
	w := newWorld(t, false, false)
	w.statuses = map[string]reactions.Status{}
	r := w.reconciler("rm1", reconcile.VIP{Owner: "rm1", AutoFix: true})
	pass(t, r)
	pass(t, r) // none: the repair is journaled
	pass(t, r) // still running: not repeated
	if len(w.submits) != 1 {
		t.Fatalf("%d repairs while the first runs, want 1", len(w.submits))
	}
	w.mu.Lock()
	w.statuses["rm1-1"] = reactions.StatusFailed
	w.mu.Unlock()
	pass(t, r) // it failed: repaired again
	if len(w.submits) != 2 || w.submits[1].Plan == nil {
		t.Fatalf("repairs after a failed one: %d, want 2 with a plan", len(w.submits))
	}
	w.mu.Lock()
	w.statuses["rm1-2"] = reactions.StatusSucceeded
	w.mu.Unlock()
	pass(t, r)
	if len(w.submits) != 2 {
		t.Errorf("a successful repair was repeated: %d submits", len(w.submits))
	}
}

// A state that changes between two passes (a move in progress) is not a
// confirmed drift; the same states, lasting one pass longer, are.
func TestTransientStateNotReported(t *testing.T) {
	w := newWorld(t, true, false)
	r := w.reconciler("rm1", reconcile.VIP{Owner: "rm1", AutoFix: true})
	moves := []struct {
		name     string
		rm1, rm2 bool
		kind     reconcile.Kind
	}{
		{"disable done", false, false, reconcile.KindNone},
		{"enable done: moved, and rm2 is wrong", false, true, reconcile.KindWrong},
		{"rm1 back, rm2 gone before being confirmed", true, false, reconcile.KindOK},
	}
	pass(t, r)
	for _, m := range moves {
		w.set("rm1", m.rm1)
		w.set("rm2", m.rm2)
		if st := pass(t, r); st.Kind != m.kind {
			t.Fatalf("%s: kind %s, want %s", m.name, st.Kind, m.kind)
		}
	}
	if len(w.submits) != 0 {
		t.Errorf("journaled %d events for transient states", len(w.submits))
	}
	for _, m := range moves {
		w.set("rm1", m.rm1)
		w.set("rm2", m.rm2)
		pass(t, r)
		pass(t, r)
	}
	var kinds []string
	for _, ev := range w.submits {
		kinds = append(kinds, ev.Alarm.Labels["kind"])
	}
	if diff := cmp.Diff([]string{"none", "wrong"}, kinds); diff != "" {
		t.Errorf("journaled drifts of states that lasted (-want +got):\n%s", diff)
	}
}

func TestOnlyTheOwnerReports(t *testing.T) {
	w := newWorld(t, true, true)
	r2 := w.reconciler("rm2", reconcile.VIP{Owner: "rm1", AutoFix: true})
	pass(t, r2)
	st := pass(t, r2)
	if st.Kind != reconcile.KindBoth || st.Reporter != "rm1" || st.EventID != "" {
		t.Errorf("rm2's view: %+v; want both, reported by rm1, nothing journaled", st)
	}
	if len(w.submits) != 0 {
		t.Errorf("rm2 journaled %d events for a VIP rm1 owns", len(w.submits))
	}
}

func TestUnobservableNode(t *testing.T) {
	w := newWorld(t, false, false)
	w.down["rm2"] = true
	r := w.reconciler("rm1", reconcile.VIP{Owner: "rm1", AutoFix: true})
	pass(t, r)
	st := pass(t, r)
	if diff := cmp.Diff(reconcile.State{VIP: "vip", Kind: reconcile.KindUnknown, Unknown: []string{"rm2"}, Owner: "rm1", Reporter: "rm1"}, st, ignoreWhy); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	if len(w.submits) != 0 {
		t.Errorf("journaled %d events while a node could not be observed", len(w.submits))
	}
}

// A node whose agent does not manage the VIP is left out.
func TestNodeWithoutTheVIP(t *testing.T) {
	w := newWorld(t, true, false)
	w.absent["rm2"] = true
	r := w.reconciler("rm1", reconcile.VIP{Owner: "rm1"})
	if st := pass(t, r); st.Kind != reconcile.KindOK {
		t.Errorf("kind %s, want ok", st.Kind)
	}
}

// The peer's last action counts: rm2 enabled itself (in its journal only),
// so rm2 is the owner even though rm1 is configured.
func TestPeerLastActionDecides(t *testing.T) {
	w := newWorld(t, false, true)
	s := step(reactions.ActionEnable, "rm2", reactions.OutcomeChanged, 1)
	w.lasts["rm2"] = &s
	r := w.reconciler("rm1", reconcile.VIP{Owner: "rm1", AutoFix: true})
	pass(t, r)
	if st := pass(t, r); st.Kind != reconcile.KindOK || st.Owner != "rm2" {
		t.Errorf("state %+v, want ok with owner rm2", st)
	}
}

// A drift that could not be journaled is tried again at the next pass.
func TestJournalFailureRetried(t *testing.T) {
	w := newWorld(t, true, true)
	w.failing = true
	r := w.reconciler("rm1", reconcile.VIP{Owner: "rm1"})
	pass(t, r)
	if _, err := r.Run(context.Background()); !errors.Is(err, reactions.ErrUnavailable) {
		t.Fatalf("Run = %v, want the journal's error", err)
	}
	w.failing = false
	if st := pass(t, r); st.EventID == "" {
		t.Error("drift not journaled once the journal works again")
	}
	if len(w.drifts) != 1 {
		t.Errorf("drift hook called %d times, want 1", len(w.drifts))
	}
}

// A drift that comes back after a successful repair, with no pass seeing
// the VIP right in between (a person or another tool removed the address
// again, a late action undid the repair), is repaired again once a later
// pass confirms it: a successful repair does not silence its drift for good.
func TestRecurringDriftRepairedAgain(t *testing.T) {
	w := newWorld(t, false, false)
	w.statuses = map[string]reactions.Status{}
	r := w.reconciler("rm1", reconcile.VIP{Owner: "rm1", AutoFix: true})
	pass(t, r)
	pass(t, r) // none: repair rm1-1 journaled
	w.mu.Lock()
	w.statuses["rm1-1"] = reactions.StatusSucceeded
	w.mu.Unlock()
	// The repair put the VIP back and something removed it again before the
	// next pass: the world still shows none.
	if st := pass(t, r); st.EventID != "" {
		t.Fatalf("a drift seen once after its repair succeeded was repaired at once (%s); it needs confirming", st.EventID)
	}
	st := pass(t, r)
	if st.EventID == "" || len(w.submits) != 2 || w.submits[1].Plan == nil {
		t.Fatalf("recurring drift not repaired again: state %+v, %d repairs", st, len(w.submits))
	}
	// That repair runs: not repeated meanwhile.
	pass(t, r)
	if len(w.submits) != 2 {
		t.Errorf("%d repairs while the second one runs, want 2", len(w.submits))
	}
}

// INIT on both nodes ("none until RM elects"): after `failover disable` on
// rm1 and then on rm2, reconcile sees the VIP on no node as asked, journals
// nothing and never puts it back on its owner; an enable resumes the normal
// repair.
func TestReleasedOnEveryNode(t *testing.T) {
	w := newWorld(t, true, false)
	r := w.reconciler("rm1", reconcile.VIP{Owner: "rm1", AutoFix: true})
	w.journalMove("rm1", reactions.ActionEnable, 1)
	if st := pass(t, r); st.Kind != reconcile.KindOK {
		t.Fatalf("before INIT: %s, want ok", st.Kind)
	}
	w.journalMove("rm1", reactions.ActionDisable, 2)
	w.journalMove("rm2", reactions.ActionDisable, 3)
	for i := range 10 {
		st := pass(t, r)
		want := reconcile.State{VIP: "vip", Kind: reconcile.KindReleased, Released: true, Reporter: "rm1"}
		if diff := cmp.Diff(want, st, ignoreWhy); diff != "" {
			t.Fatalf("pass %d after INIT on both (-want +got):\n%s", i, diff)
		}
	}
	if len(w.submits) != 0 || len(w.drifts) != 0 {
		t.Fatalf("released on every node: %d events journaled, drift hook %v; want none", len(w.submits), w.drifts)
	}

	// RM elected rm2 (NLB.bat enable 2), and then the VIP went missing:
	// the normal repair is back, reported by the owner rm2.
	w.journalMove("rm2", reactions.ActionEnable, 4)
	w.set("rm2", false)
	r2 := w.reconciler("rm2", reconcile.VIP{Owner: "rm1", AutoFix: true})
	pass(t, r2)
	st := pass(t, r2)
	if st.Kind != reconcile.KindNone || st.Owner != "rm2" || st.EventID == "" {
		t.Fatalf("after an enable on rm2 and the VIP gone: %+v, want none repaired towards rm2", st)
	}
	want := &reactions.Plan{Reaction: reconcile.Reaction, Steps: []reactions.Step{
		{Action: reactions.ActionEnable, VIP: "vip", Node: "rm2", When: []reactions.Condition{reactions.WhenReleased}},
	}}
	if diff := cmp.Diff(want, w.submits[0].Plan); diff != "" {
		t.Errorf("repair plan (-want +got):\n%s", diff)
	}
}

// Released on every node, yet one node still holds the VIP (its disable
// failed, or someone added the address): a drift whose repair only
// disables, never an enable.
func TestReleasedButHeld(t *testing.T) {
	w := newWorld(t, false, false)
	w.journalMove("rm1", reactions.ActionDisable, 2)
	w.journalMove("rm2", reactions.ActionDisable, 3)
	w.set("rm2", true)
	r := w.reconciler("rm1", reconcile.VIP{Owner: "rm1", AutoFix: true})
	pass(t, r)
	st := pass(t, r)
	if st.Kind != reconcile.KindWrong || !st.Released || st.Owner != "" || st.EventID == "" {
		t.Fatalf("state %+v, want wrong (released everywhere) journaled", st)
	}
	want := &reactions.Plan{Reaction: reconcile.Reaction, Steps: []reactions.Step{
		{Action: reactions.ActionDisable, VIP: "vip", Node: "rm2", When: []reactions.Condition{reactions.WhenAlways}},
	}}
	if diff := cmp.Diff(want, w.submits[0].Plan); diff != "" {
		t.Errorf("repair plan (-want +got):\n%s", diff)
	}
	if got := w.submits[0].Alarm.Labels["owner"]; got != "-" {
		t.Errorf("owner label %q, want -", got)
	}
}

// A journal records a move when its event finishes. While a move is in
// flight on either node the journals may not know it (a slow move: rm1's
// failover to rm2 has enabled rm2, and neither journal says so yet), so a
// pass judges nothing: kind moving, nothing journaled, and a drift seen
// once the move ended needs two quiet passes like any other.
func TestMoveInFlightIsNotJudged(t *testing.T) {
	tests := []struct {
		name  string
		node  string
		setup func(w *world, node string)
	}{
		{"this node runs an event for the VIP", "rm1", func(w *world, n string) { w.busy[n] = true }},
		{"an event for the VIP starts on this node during the pass", "rm1", func(w *world, n string) { w.churn[n] = true }},
		{"the peer says it is moving the VIP", "rm2", func(w *world, n string) { w.busy[n] = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// rm2 holds the VIP; what the journals know (nothing) makes the
			// configured owner rm1 the owner: a drift, were it judged.
			w := newWorld(t, false, true)
			r := w.reconciler("rm1", reconcile.VIP{Owner: "rm1", AutoFix: true})
			w.mu.Lock()
			tt.setup(w, tt.node)
			w.mu.Unlock()
			for i := range 3 {
				st := pass(t, r)
				if st.Kind != reconcile.KindMoving || !slices.Equal(st.Moving, []string{tt.node}) || st.EventID != "" {
					t.Fatalf("pass %d during the move: kind %s, moving %v, event %q; want moving on %s and nothing journaled", i, st.Kind, st.Moving, st.EventID, tt.node)
				}
			}
			w.mu.Lock()
			w.busy, w.churn = map[string]bool{}, map[string]bool{}
			w.mu.Unlock()
			if st := pass(t, r); st.Kind != reconcile.KindWrong || st.EventID != "" {
				t.Fatalf("first quiet pass: kind %s, event %q; want the drift seen, not journaled", st.Kind, st.EventID)
			}
			if len(w.submits) != 0 {
				t.Fatalf("journaled %d events before two quiet passes", len(w.submits))
			}
			if st := pass(t, r); st.EventID == "" {
				t.Fatalf("second quiet pass: kind %s, nothing journaled; want the confirmed drift journaled", st.Kind)
			}
		})
	}
}
