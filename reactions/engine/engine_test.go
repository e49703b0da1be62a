package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/journal/forensic"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/rules"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/fake"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

func TestMain(m *testing.M) {
	viptest.RunFakes(map[string]viptest.Fake{"notify": notifyProgram})
	goleak.VerifyTestMain(m)
}

// notifyProgram is a program for `run` steps, on every OS: it writes its
// arguments, one per line, to the file "args" next to it.
func notifyProgram(dir string, args []string, _ io.Writer) int {
	if err := os.WriteFile(filepath.Join(dir, "args"), []byte(strings.Join(args, "\n")+"\n"), 0o644); err != nil {
		return 1
	}
	return 0
}

type harness struct {
	t       *testing.T
	eng     *engine.Engine
	journal *journal.Journal
	backend *fake.Backend
	path    string
}

func fakeVIP(t *testing.T, opts map[string]any) *fake.Backend {
	t.Helper()
	b, err := fake.New(vip.Spec{Name: "rm-vip", Interface: "eth0"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var stopRules = rules.Rules{
	{Name: "rm1-stopped", Match: rules.Match{Condition: []string{"RM1_Stopped"}},
		Steps: []reactions.Step{{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm1"}}},
	{Name: "rm1-started", Match: rules.Match{Condition: []string{"RM1_Started"}},
		Steps: []reactions.Step{{Action: reactions.ActionEnable, VIP: "rm-vip", Node: "rm1"}}},
}

func newHarness(t *testing.T, b engine.Backend, mod func(*engine.Config)) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := journal.Open(path, journal.Options{Node: "rm1"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.Config{
		Node:        "rm1",
		VIPs:        map[string]engine.VIP{"rm-vip": {Backend: b, Kind: "fake"}},
		Rules:       stopRules,
		StepTimeout: 5 * time.Second,
		Journal:     j,
		Logger:      zerolog.Nop(),
	}
	if mod != nil {
		mod(&cfg)
	}
	e := engine.New(cfg)
	h := &harness{t: t, eng: e, journal: j, path: path}
	if fb, ok := b.(*fake.Backend); ok {
		h.backend = fb
	}
	t.Cleanup(func() {
		e.Close(context.Background())
		j.Close()
	})
	return h
}

// fire submits an alarm and waits for its result.
func (h *harness) fire(a reactions.Alarm) (*reactions.Event, bool) {
	h.t.Helper()
	ev, dup, err := h.eng.Submit(&reactions.Event{Key: a.ID, Source: reactions.SourceHTTP, Alarm: a})
	if err != nil {
		h.t.Fatalf("submit: %v", err)
	}
	return h.waitFinal(ev.ID), dup
}

func outcomes(ev *reactions.Event) []reactions.Outcome {
	var out []reactions.Outcome
	for _, s := range ev.Result.Steps {
		out = append(out, s.Outcome)
	}
	return out
}

func TestObserveActVerify(t *testing.T) {
	h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present"}), nil)
	tests := []struct {
		condition string
		want      reactions.Outcome
		before    bool
		after     bool
	}{
		{"RM1_Stopped", reactions.OutcomeChanged, true, false},
		{"RM1_Stopped", reactions.OutcomeUnchanged, false, false},
		{"RM1_Started", reactions.OutcomeChanged, false, true},
		{"RM1_Started", reactions.OutcomeUnchanged, true, true},
	}
	for i, tt := range tests {
		ev, _ := h.fire(reactions.Alarm{Condition: tt.condition})
		if ev.Status != reactions.StatusSucceeded {
			t.Fatalf("%d: status %s: %s", i, ev.Status, ev.Result.Error)
		}
		s := ev.Result.Steps[0]
		if s.Outcome != tt.want || s.Before.Present != tt.before || s.After.Present != tt.after {
			t.Errorf("%d %s: outcome %s before %v after %v, want %s %v %v", i, tt.condition, s.Outcome, s.Before.Present, s.After.Present, tt.want, tt.before, tt.after)
		}
		if s.Attempts != 1 || s.Node != "rm1" || s.Backend != "fake" || s.VIP != "rm-vip" {
			t.Errorf("%d: step record %+v", i, s)
		}
	}
	// Only the two changes reached the backend: "already so" never acts.
	if diff := cmp.Diff([]string{"disable", "enable"}, h.backend.Calls()); diff != "" {
		t.Errorf("backend calls (-want +got):\n%s", diff)
	}
}

func TestIdempotencyKey(t *testing.T) {
	h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present"}), nil)
	first, dup := h.fire(reactions.Alarm{ID: "scs-42", Condition: "RM1_Stopped"})
	if dup {
		t.Fatal("first alarm marked duplicate")
	}
	again, dup := h.fire(reactions.Alarm{ID: "scs-42", Condition: "RM1_Stopped"})
	if !dup || again.ID != first.ID {
		t.Errorf("repeat: dup=%v id=%s, want duplicate of %s", dup, again.ID, first.ID)
	}
	if n := len(h.backend.Calls()); n != 1 {
		t.Errorf("backend called %d times, want 1", n)
	}
}

func TestConcurrentCopiesRunOnce(t *testing.T) {
	h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present"}), nil)
	var wg sync.WaitGroup
	var dups atomic.Int32
	ids := make(chan string, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, dup, err := h.eng.Submit(&reactions.Event{Key: "same", Alarm: reactions.Alarm{ID: "same", Condition: "RM1_Stopped"}})
			if err != nil {
				t.Error(err)
				return
			}
			if dup {
				dups.Add(1)
			}
			ids <- ev.ID
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		seen[id] = true
	}
	if len(seen) != 1 || dups.Load() != 99 {
		t.Errorf("100 copies gave %d events, %d duplicates; want 1 and 99", len(seen), dups.Load())
	}
	for id := range seen {
		if ev := h.waitFinal(id); ev.Status != reactions.StatusSucceeded {
			t.Fatalf("event %s: %s", id, ev.Status)
		}
	}
	if n := len(h.backend.Calls()); n != 1 {
		t.Errorf("backend called %d times, want 1", n)
	}
}

// overlapBackend fails the test if two calls run at once, and records the
// calls in the order they came.
type overlapBackend struct {
	*fake.Backend
	t      *testing.T
	active atomic.Int32
	mu     sync.Mutex
	order  []string
}

func (o *overlapBackend) enter(what string) func() {
	n := o.active.Add(1)
	if n > 1 {
		o.t.Errorf("%s ran while another call was active (%d at once)", what, n)
	}
	o.mu.Lock()
	o.order = append(o.order, what)
	o.mu.Unlock()
	// Every call lasts a while, so that a second call let in too early
	// overlaps it: in the bubble, every goroutine that can run does so
	// before this sleep ends.
	time.Sleep(time.Millisecond)
	return func() { o.active.Add(-1) }
}

func (o *overlapBackend) calls() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.order)
}

func (o *overlapBackend) Observe(ctx context.Context) (reactions.VIPState, error) {
	defer o.enter("observe")()
	return o.Backend.Observe(ctx)
}
func (o *overlapBackend) Enable(ctx context.Context, force bool) error {
	defer o.enter("enable")()
	return o.Backend.Enable(ctx, force)
}
func (o *overlapBackend) Disable(ctx context.Context) error {
	defer o.enter("disable")()
	return o.Backend.Disable(ctx)
}

// Events on one VIP run one at a time, in the order they were accepted:
// the backend never sees two calls at once, each event's calls come
// together, and each event sees the state the one before it left. In a
// bubble, so that the backend's delays are exact and every goroutine that
// could slip in does run while a call lasts.
func TestSerialisedPerVIP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ob := &overlapBackend{Backend: fakeVIP(t, map[string]any{"initial": "present", "delay": "2ms"}), t: t}
		h := newHarness(t, ob, nil) // Supersede off: every event runs.
		const n = 40
		var mu sync.Mutex
		var accepted []string
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				cond := "RM1_Stopped"
				if i%2 == 1 {
					cond = "RM1_Started"
				}
				ev, _, err := h.eng.Submit(&reactions.Event{Alarm: reactions.Alarm{Condition: cond}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				accepted = append(accepted, ev.ID)
				mu.Unlock()
			})
		}
		wg.Wait()
		var done []*reactions.Event
		for _, id := range accepted {
			ev := h.waitFinal(id)
			if ev.Status != reactions.StatusSucceeded || len(ev.Result.Steps) == 0 {
				t.Fatalf("event %s: %+v", id, ev)
			}
			done = append(done, ev)
		}
		slices.SortFunc(done, func(a, b *reactions.Event) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
		// The backend's calls, event after event in the order they were
		// accepted: an observation, and when the event changed the VIP its
		// act and the verifying observation.
		var want []string
		left := func(ev *reactions.Event) bool {
			s := ev.Result.Steps[len(ev.Result.Steps)-1]
			if s.After != nil {
				return s.After.Present
			}
			return s.Before.Present
		}
		for _, ev := range done {
			want = append(want, "observe")
			if ev.Result.Steps[0].Outcome == reactions.OutcomeChanged {
				act := "disable"
				if ev.Alarm.Condition == "RM1_Started" {
					act = "enable"
				}
				want = append(want, act, "observe")
			}
		}
		if diff := cmp.Diff(want, ob.calls()); diff != "" {
			t.Errorf("backend calls, in the order the events were accepted (-want +got):\n%s", diff)
		}
		for i := 1; i < len(done); i++ {
			prev, cur := done[i-1], done[i]
			if cur.Result.StartedAt.Before(prev.Result.FinishedAt) {
				t.Errorf("event %s started at %s, before event %s (accepted earlier) finished at %s", cur.ID, cur.Result.StartedAt, prev.ID, prev.Result.FinishedAt)
			}
			if before := cur.Result.Steps[0].Before; before == nil || before.Present != left(prev) {
				t.Errorf("event %s saw %+v, but event %s before it left present=%v", cur.ID, before, prev.ID, left(prev))
			}
		}
		last := done[len(done)-1]
		// The last event to run decided the final state.
		st, err := ob.Backend.Observe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		wantPresent := last.Alarm.Condition == "RM1_Started"
		if st.Present != wantPresent {
			t.Errorf("final state present=%v, want %v (last event %s %s)", st.Present, wantPresent, last.ID, last.Alarm.Condition)
		}
	})
}

// A step that hangs is stopped at the step's bound, neither sooner nor
// later (the bubble's clock is exact), and reported as a timeout.
func TestStepTimeoutKillsAndReports(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present", "hang": true}), func(c *engine.Config) {
			c.StepTimeout = 150 * time.Millisecond
		})
		start := time.Now()
		ev, _ := h.fire(reactions.Alarm{Condition: "RM1_Stopped"})
		if ev.Status != reactions.StatusTimeout || ev.Result.Steps[0].Outcome != reactions.OutcomeTimeout {
			t.Fatalf("status %s outcome %s, want timeout", ev.Status, ev.Result.Steps[0].Outcome)
		}
		if !strings.Contains(ev.Result.Steps[0].Error, "deadline of 150ms exceeded") {
			t.Errorf("error %q does not name the deadline", ev.Result.Steps[0].Error)
		}
		if d := time.Since(start); d != 150*time.Millisecond {
			t.Errorf("the hanging step ended after %s, want the step's bound of 150ms", d)
		}
	})
}

func TestUnmatchedIsJournaled(t *testing.T) {
	h := newHarness(t, fakeVIP(t, nil), nil)
	ev, _ := h.fire(reactions.Alarm{Condition: "Nobody_Cares"})
	if ev.Status != reactions.StatusUnmatched || len(ev.Result.Steps) != 0 {
		t.Errorf("status %s steps %d, want unmatched with no steps", ev.Status, len(ev.Result.Steps))
	}
	if got, err := h.journal.Get(ev.ID); err != nil || got.Status != reactions.StatusUnmatched {
		t.Errorf("journal: %+v %v", got, err)
	}
}

// A failed VIP step is tried again after a linear backoff (200, 400,
// 600 ms) and succeeds on its fourth attempt.
func TestRetriesAfterFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present", "fail_first": 3}), func(c *engine.Config) { c.Retries = 3 })
		start := time.Now()
		ev, _ := h.fire(reactions.Alarm{Condition: "RM1_Stopped"})
		s := ev.Result.Steps[0]
		if ev.Status != reactions.StatusSucceeded || s.Outcome != reactions.OutcomeChanged || s.Attempts != 4 {
			t.Errorf("status %s outcome %s attempts %d, want succeeded changed 4", ev.Status, s.Outcome, s.Attempts)
		}
		if d := time.Since(start); d != 1200*time.Millisecond {
			t.Errorf("four attempts took %s, want the backoff's 200ms + 400ms + 600ms", d)
		}
	})
}

func TestFailureIsExplicit(t *testing.T) {
	h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present", "fail_first": 5}), nil)
	ev, _ := h.fire(reactions.Alarm{Condition: "RM1_Stopped"})
	s := ev.Result.Steps[0]
	if ev.Status != reactions.StatusFailed || s.Outcome != reactions.OutcomeFailed || !strings.Contains(s.Error, "fail_first") {
		t.Errorf("status %s outcome %s error %q", ev.Status, s.Outcome, s.Error)
	}
	if !strings.Contains(ev.Result.Error, "step 0 (disable rm-vip on rm1) failed") {
		t.Errorf("result error %q", ev.Result.Error)
	}
}

// recordingPeers answers for the steps a test expects and fails on others.
type recordingPeers struct {
	t      *testing.T
	mu     sync.Mutex
	answer map[string]func(reactions.Step) (reactions.StepResult, error)
	calls  []string
}

func (p *recordingPeers) Do(ctx context.Context, node string, s reactions.Step, _ engine.PeerRequest) (reactions.StepResult, error) {
	key := fmt.Sprintf("%s %s %s", node, s.Action, s.VIP)
	p.mu.Lock()
	p.calls = append(p.calls, key)
	f, ok := p.answer[key]
	p.mu.Unlock()
	if !ok {
		p.t.Errorf("unexpected invocation %q", key)
		return reactions.StepResult{}, errors.New("unexpected")
	}
	return f(s)
}

func TestSplitBrainGuard(t *testing.T) {
	moveRules := func(when []reactions.Condition) rules.Rules {
		return rules.Rules{{Name: "move", Match: rules.Match{Condition: []string{"RM1_Unexpected_Stop"}}, Steps: []reactions.Step{
			{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm1"},
			{Action: reactions.ActionEnable, VIP: "rm-vip", Node: "rm2", When: when},
		}}}
	}
	unreachable := func(reactions.Step) (reactions.StepResult, error) {
		return reactions.StepResult{}, fmt.Errorf("node rm1: %w: connection refused", reactions.ErrUnreachable)
	}
	tests := []struct {
		name       string
		when       []reactions.Condition
		wantStatus reactions.Status
		want       []reactions.Outcome
	}{
		{"guard lets enable follow an unreachable disable", []reactions.Condition{reactions.WhenReleased}, reactions.StatusSucceeded,
			[]reactions.Outcome{reactions.OutcomeFailed, reactions.OutcomeChanged}},
		{"default stops after a failure", nil, reactions.StatusFailed,
			[]reactions.Outcome{reactions.OutcomeFailed, reactions.OutcomeSkipped}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peers := &recordingPeers{t: t, answer: map[string]func(reactions.Step) (reactions.StepResult, error){"rm1 disable rm-vip": unreachable}}
			h := newHarness(t, fakeVIP(t, nil), func(c *engine.Config) {
				c.Node = "rm2"
				c.Rules = moveRules(tt.when)
				c.Peers = peers
			})
			ev, _ := h.fire(reactions.Alarm{Condition: "RM1_Unexpected_Stop"})
			if ev.Status != tt.wantStatus {
				t.Errorf("status %s, want %s (%s)", ev.Status, tt.wantStatus, ev.Result.Error)
			}
			if diff := cmp.Diff(tt.want, outcomes(ev)); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			if !ev.Result.Steps[0].Unreachable {
				t.Error("unreachable disable not marked unreachable")
			}
		})
	}
}

func TestGuardRefusesAfterRealFailure(t *testing.T) {
	peers := &recordingPeers{t: t, answer: map[string]func(reactions.Step) (reactions.StepResult, error){
		"rm1 disable rm-vip": func(reactions.Step) (reactions.StepResult, error) {
			return reactions.StepResult{Outcome: reactions.OutcomeFailed, Error: "netsh exited 1", PeerEvent: "rm1-x"}, nil
		},
	}}
	h := newHarness(t, fakeVIP(t, nil), func(c *engine.Config) {
		c.Node = "rm2"
		c.Peers = peers
		c.Rules = rules.Rules{{Name: "move", Match: rules.Match{Condition: []string{"X"}}, Steps: []reactions.Step{
			{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm1"},
			{Action: reactions.ActionEnable, VIP: "rm-vip", Node: "rm2", When: []reactions.Condition{reactions.WhenReleased}},
		}}}
	})
	ev, _ := h.fire(reactions.Alarm{Condition: "X"})
	if diff := cmp.Diff([]reactions.Outcome{reactions.OutcomeFailed, reactions.OutcomeSkipped}, outcomes(ev)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if ev.Status != reactions.StatusFailed || ev.Result.Steps[0].PeerEvent != "rm1-x" {
		t.Errorf("status %s peer event %q", ev.Status, ev.Result.Steps[0].PeerEvent)
	}
	if n := len(h.backend.Calls()); n != 0 {
		t.Errorf("enable ran on rm2 although rm1 may still hold the VIP")
	}
}

func TestRunCommandWithAlarmFields(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "args")
	script := viptest.InstallFake(t, dir, "notify")
	h := newHarness(t, fakeVIP(t, nil), func(c *engine.Config) {
		c.Commands = map[string]engine.Command{"notify": {Argv: []string{script, "${condition}", "${host}", "x${label:site}y", "$(reboot)"}}}
		c.Rules = rules.Rules{{Name: "n", Match: rules.Match{Condition: []string{"*"}}, Steps: []reactions.Step{{Action: reactions.ActionRun, Command: "notify"}}}}
	})
	ev, _ := h.fire(reactions.Alarm{Condition: "RM1 Stopped; rm -rf /", Host: "rm1", Labels: map[string]string{"site": "par"}})
	if ev.Status != reactions.StatusSucceeded {
		t.Fatalf("status %s: %s", ev.Status, ev.Result.Error)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Every value arrives as one argument, uninterpreted.
	want := "RM1 Stopped; rm -rf /\nrm1\nxpary\n$(reboot)\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("arguments (-want +got):\n%s", diff)
	}
	if x := ev.Result.Steps[0].Exec; x == nil || x.ExitCode != 0 || x.Argv[0] != script {
		t.Errorf("exec record %+v", x)
	}
}

// With supersede on, events queued behind a running one are replaced by
// the newest of them. In a bubble: the first event's 300 ms act ends only
// once the others are queued, whatever the machine's load.
func TestSupersedeQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := fakeVIP(t, map[string]any{"initial": "present", "delay": "300ms"})
		h := newHarness(t, b, func(c *engine.Config) { c.Supersede = true })
		var ids []string
		for _, cond := range []string{"RM1_Stopped", "RM1_Started", "RM1_Stopped", "RM1_Started"} {
			ids = append(ids, h.submit(&reactions.Event{Alarm: reactions.Alarm{Condition: cond}}).ID)
		}
		var statuses []reactions.Status
		for _, id := range ids {
			statuses = append(statuses, h.waitFinal(id).Status)
		}
		// The first was running; the two queued behind it were replaced by the
		// newest intent, which ran.
		want := []reactions.Status{reactions.StatusSucceeded, reactions.StatusSuperseded, reactions.StatusSuperseded, reactions.StatusSucceeded}
		if diff := cmp.Diff(want, statuses); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"disable", "enable"}, b.Calls()); diff != "" {
			t.Errorf("backend calls (-want +got):\n%s", diff)
		}
	})
}

func TestRecoverUnfinished(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := journal.Open(path, journal.Options{Node: "rm1"})
	if err != nil {
		t.Fatal(err)
	}
	// A crash after accepting one event and starting another.
	accepted, _, err := j.Accept(&reactions.Event{Node: "rm1", Alarm: reactions.Alarm{Condition: "RM1_Stopped"}, ReceivedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	running, _, err := j.Accept(&reactions.Event{Node: "rm1", Alarm: reactions.Alarm{Condition: "RM1_Started"}, ReceivedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	running.Status, running.Runs = reactions.StatusRunning, 1
	if err := j.Update(running); err != nil {
		t.Fatal(err)
	}
	j.Close()

	b := fakeVIP(t, map[string]any{"initial": "present"})
	j2, err := forensic.Open(path, journal.Options{Node: "rm1"})
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(engine.Config{Node: "rm1", VIPs: map[string]engine.VIP{"rm-vip": {Backend: b, Kind: "fake"}}, Rules: stopRules, Journal: j2, Logger: zerolog.Nop()})
	defer j2.Close()
	defer e.Close(context.Background())
	n, err := e.Recover()
	if err != nil || n != 2 {
		t.Fatalf("Recover() = %d, %v; want 2", n, err)
	}
	for _, id := range []string{accepted.ID, running.ID} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ev, err := e.Wait(ctx, id)
		cancel()
		if err != nil || ev.Status != reactions.StatusSucceeded {
			t.Fatalf("recovered %s: %+v %v", id, ev, err)
		}
		if id == running.ID && (ev.Runs != 2 || len(ev.Result.Notes) == 0) {
			t.Errorf("interrupted run: runs %d notes %q; want 2 runs and a note", ev.Runs, ev.Result.Notes)
		}
	}
	if left, _ := j2.Unfinished(); len(left) != 0 {
		t.Errorf("%d events still unfinished", len(left))
	}
	// Recovery ran them in the order they were accepted.
	if diff := cmp.Diff([]string{"disable", "enable"}, b.Calls()); diff != "" {
		t.Errorf("backend calls (-want +got):\n%s", diff)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	h := newHarness(t, fakeVIP(t, map[string]any{"initial": "present"}), nil)
	res := h.eng.DryRun(context.Background(), &reactions.Event{ID: "x", Alarm: reactions.Alarm{Condition: "RM1_Stopped"}})
	if !res.DryRun || res.Steps[0].Outcome != reactions.OutcomePlanned || !res.Steps[0].Before.Present || res.Steps[0].Reason != "would change" {
		t.Errorf("dry run %+v", res.Steps)
	}
	if len(h.backend.Calls()) != 0 {
		t.Error("dry run acted")
	}
}

// An engine with MaxInFlight events unfinished refuses the next one and
// stores nothing of it. In a bubble: the two hanging events are still in
// flight at the third Submit however slow the machine (no time passes).
func TestInFlightBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, fakeVIP(t, map[string]any{"hang": true, "initial": "present"}), func(c *engine.Config) {
			c.MaxInFlight = 2
			c.StepTimeout = 300 * time.Millisecond
		})
		for range 2 {
			h.submit(&reactions.Event{Alarm: reactions.Alarm{Condition: "RM1_Stopped"}})
		}
		_, _, err := h.eng.Submit(&reactions.Event{Alarm: reactions.Alarm{Condition: "RM1_Stopped"}})
		if !errors.Is(err, reactions.ErrUnavailable) {
			t.Errorf("third event: %v, want ErrUnavailable", err)
		}
		evs, _ := h.journal.List(journal.Filter{})
		if len(evs) != 2 {
			t.Errorf("journal holds %d events; the refused one must not be stored", len(evs))
		}
	})
}

// quickBackend records whether the short (released) probe path was used.
type quickBackend struct {
	*fake.Backend
	mu    sync.Mutex
	calls []string
}

func (q *quickBackend) Enable(ctx context.Context, force bool) error {
	q.mu.Lock()
	q.calls = append(q.calls, fmt.Sprintf("enable force=%v", force))
	q.mu.Unlock()
	return q.Backend.Enable(ctx, force)
}

func (q *quickBackend) EnableReleased(ctx context.Context) error {
	q.mu.Lock()
	q.calls = append(q.calls, "enable released")
	q.mu.Unlock()
	return q.Backend.Enable(ctx, false)
}

func TestShortProbeOnlyAfterVerifiedRelease(t *testing.T) {
	changed := func(reactions.Step) (reactions.StepResult, error) {
		return reactions.StepResult{Outcome: reactions.OutcomeChanged, PeerEvent: "rm1-1"}, nil
	}
	unreachable := func(reactions.Step) (reactions.StepResult, error) {
		return reactions.StepResult{}, fmt.Errorf("%w: refused", reactions.ErrUnreachable)
	}
	tests := []struct {
		name   string
		answer func(reactions.Step) (reactions.StepResult, error)
		force  bool
		want   []string
	}{
		{"peer verified the release", changed, false, []string{"enable released"}},
		{"peer unreachable: full probe", unreachable, false, []string{"enable force=false"}},
		{"forced: no probe at all", changed, true, []string{"enable force=true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &quickBackend{Backend: fakeVIP(t, nil)}
			peers := &recordingPeers{t: t, answer: map[string]func(reactions.Step) (reactions.StepResult, error){"rm1 disable rm-vip": tt.answer}}
			h := newHarness(t, q, func(c *engine.Config) {
				c.Node = "rm2"
				c.Peers = peers
				c.Rules = rules.Rules{{Name: "move", Match: rules.Match{Condition: []string{"X"}}, Steps: []reactions.Step{
					{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm1"},
					{Action: reactions.ActionEnable, VIP: "rm-vip", Node: "rm2", Force: tt.force, When: []reactions.Condition{reactions.WhenReleased}},
				}}}
			})
			ev, _ := h.fire(reactions.Alarm{Condition: "X"})
			if ev.Status != reactions.StatusSucceeded {
				t.Fatalf("status %s: %s", ev.Status, ev.Result.Error)
			}
			if diff := cmp.Diff(tt.want, q.calls); diff != "" {
				t.Errorf("enable path (-want +got):\n%s", diff)
			}
		})
	}
}
