// Package engine is where an alarm becomes VIP commands: it journals the
// event, asks the rules for a plan, runs the plan's steps one VIP at a time
// (observe, act only if needed, verify), journals the result and wakes
// whoever waits for it.
package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/command"
	"github.com/vipagent/vipagent/reactions/rules"
)

// Journal is the durable store the engine needs.
type Journal interface {
	Accept(ev *reactions.Event) (*reactions.Event, bool, error)
	Get(id string) (*reactions.Event, error)
	Update(ev *reactions.Event) error
	// UpdateAsync queues the rewrite and returns at once; writes queued
	// after it commit after it.
	UpdateAsync(ev *reactions.Event) <-chan error
	Finish(ev *reactions.Event) error
	Unfinished() ([]*reactions.Event, error)
}

// Results is where finished events go: committed durably, with whatever
// they report, before the engine wakes their waiters.
type Results interface {
	Finish(ev *reactions.Event) error
}

// Peers carries a step to another node's agent and returns its result.
// An unreachable node is an error wrapping reactions.ErrUnreachable.
type Peers interface {
	Do(ctx context.Context, node string, step reactions.Step, origin string) (reactions.StepResult, error)
}

// VIP is a VIP this node can act on.
type VIP struct {
	Backend Backend
	// Kind is the backend's name (netlink, netsh, fake...).
	Kind    string
	Timeout time.Duration
}

// Command is a program a `run` step starts.
type Command struct {
	Argv    []string
	Dir     string
	Timeout time.Duration
}

// Observer is told about every finished step and event (metrics).
type Observer interface {
	StepDone(kind string, s reactions.StepResult)
	EventDone(ev *reactions.Event)
}

// Config is everything the engine is built from.
type Config struct {
	Node     string
	VIPs     map[string]VIP
	Commands map[string]Command
	Rules    rules.Rules
	// RMAddress maps nodes to host:port where their RM answers.
	RMAddress map[string]string
	// StepTimeout applies to steps that set none and whose VIP sets none.
	StepTimeout time.Duration
	// MaxInFlight bounds events accepted but not finished; beyond it
	// Submit refuses with ErrUnavailable.
	MaxInFlight int
	// Supersede lets a newer event for a VIP replace older ones still
	// waiting for it (latest intent wins).
	Supersede bool
	// Retries is how often a failed (not timed-out) VIP step is tried again.
	Retries int
	// CallbackHosts are the hosts an alarm's callback_url may name.
	CallbackHosts []string
	Journal       Journal
	// Results receives finished events; nil means Journal.Finish.
	Results  Results
	Peers    Peers
	Observer Observer
	Logger   zerolog.Logger
	Now      func() time.Time
}

// Engine runs events.
type Engine struct {
	cfg   Config
	log   zerolog.Logger
	locks *vipLocks

	mu       sync.Mutex
	waiters  map[string]chan struct{}
	inFlight int
	closed   bool
	wg       sync.WaitGroup
	// base is the context of every run; cancelled by Close after the grace.
	base   context.Context
	cancel context.CancelFunc
}

// New returns an engine; call Recover before taking new events.
func New(cfg Config) *Engine {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StepTimeout <= 0 {
		cfg.StepTimeout = 30 * time.Second
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 1024
	}
	if cfg.Results == nil {
		cfg.Results = cfg.Journal
	}
	base, cancel := context.WithCancel(context.Background())
	return &Engine{
		cfg:     cfg,
		log:     cfg.Logger.With().Str("component", "engine").Logger(),
		locks:   newVIPLocks(),
		waiters: map[string]chan struct{}{},
		base:    base,
		cancel:  cancel,
	}
}

// Node is the name of the node this engine acts for.
func (e *Engine) Node() string { return e.cfg.Node }

// VIPNames lists the VIPs this node acts on, sorted.
func (e *Engine) VIPNames() []string {
	names := make([]string, 0, len(e.cfg.VIPs))
	for n := range e.cfg.VIPs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Submit is the one intake of every door (alarms, Alertmanager, manual
// actions, replays, failover, reconcile's drift): it checks ev, refuses it
// while the engine shuts down or is full, journals it and starts it. It
// returns once the event is durably stored (or found to be a duplicate of a
// stored one); use Wait for the result.
func (e *Engine) Submit(ev *reactions.Event) (*reactions.Event, bool, error) {
	if err := ev.Check(e.cfg.CallbackHosts); err != nil {
		return nil, false, err
	}
	if ev.Node == "" {
		ev.Node = e.cfg.Node
	}
	if ev.ReceivedAt.IsZero() {
		ev.ReceivedAt = e.cfg.Now().UTC()
	}
	if ev.Plan != nil {
		if err := e.checkPlan(*ev.Plan); err != nil {
			return nil, false, err
		}
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, false, fmt.Errorf("%w: agent is shutting down", reactions.ErrUnavailable)
	}
	if e.inFlight >= e.cfg.MaxInFlight {
		e.mu.Unlock()
		return nil, false, fmt.Errorf("%w: %d events in flight", reactions.ErrUnavailable, e.inFlight)
	}
	e.inFlight++
	e.wg.Add(1)
	e.mu.Unlock()

	stored, dup, err := e.cfg.Journal.Accept(ev)
	if err != nil || dup {
		e.release()
		return stored, dup, err
	}
	e.start(stored)
	return stored, false, nil
}

func (e *Engine) release() {
	e.mu.Lock()
	e.inFlight--
	e.mu.Unlock()
	e.wg.Done()
}

// start queues a stored event behind the earlier events of its VIPs and
// runs it in the background; the caller has counted it in flight.
func (e *Engine) start(ev *reactions.Event) {
	plan, matched := e.planFor(ev)
	e.mu.Lock()
	if _, ok := e.waiters[ev.ID]; !ok {
		e.waiters[ev.ID] = make(chan struct{})
	}
	e.mu.Unlock()
	var ticket *ticket
	if matched {
		ticket = e.locks.enqueue(ev.ID, plan.vips(), e.cfg.Supersede)
	}
	// The run works on its own copy: the caller keeps the accepted event.
	own := *ev
	go func() {
		defer e.release()
		e.run(&own, plan, matched, ticket)
	}()
}

// Wait blocks until the event is final or ctx ends, and returns the event
// as journaled.
func (e *Engine) Wait(ctx context.Context, id string) (*reactions.Event, error) {
	e.mu.Lock()
	ch, ok := e.waiters[id]
	e.mu.Unlock()
	if ok {
		select {
		case <-ch:
		case <-ctx.Done():
		}
	}
	return e.cfg.Journal.Get(id)
}

// Draining reports whether the engine has stopped taking events.
func (e *Engine) Draining() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// Recover runs every event the journal holds unfinished: an agent stopped
// mid-run (crash, kill -9, power loss) finishes that work on restart. Steps
// observe before acting, so re-running a half-done event is safe; the
// result notes the interruption.
func (e *Engine) Recover() (int, error) {
	evs, err := e.cfg.Journal.Unfinished()
	if err != nil {
		return 0, fmt.Errorf("recover: %w", err)
	}
	for _, ev := range evs {
		e.mu.Lock()
		e.inFlight++
		e.wg.Add(1)
		e.mu.Unlock()
		e.log.Warn().Str("event_id", ev.ID).Str("status", string(ev.Status)).Int("runs", ev.Runs).
			Msg("resuming event interrupted by a stop of the agent")
		e.start(ev)
	}
	return len(evs), nil
}

// Close stops taking events and waits for running ones until ctx ends;
// then it cancels them (their steps end as timeout, their processes are
// killed) and waits for them to be journaled.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
		e.cancel()
		return nil
	case <-ctx.Done():
		e.cancel()
		<-done
		return fmt.Errorf("engine: running events cancelled at shutdown: %w", ctx.Err())
	}
}

// planned is a plan made concrete for this node.
type planned struct {
	reactions.Plan
}

func (p planned) vips() []string {
	var out []string
	for _, s := range p.Steps {
		if s.VIP != "" && !slices.Contains(out, s.VIP) {
			out = append(out, s.VIP)
		}
	}
	slices.Sort(out)
	return out
}

// planFor returns the event's own plan or the rules' plan for its alarm.
func (e *Engine) planFor(ev *reactions.Event) (planned, bool) {
	if ev.Plan != nil {
		return e.fill(*ev.Plan), true
	}
	p, ok := e.cfg.Rules.Plan(ev.Alarm)
	if !ok {
		return planned{}, false
	}
	return e.fill(p), true
}

// fill completes steps with their node and deadline.
func (e *Engine) fill(p reactions.Plan) planned {
	steps := make([]reactions.Step, len(p.Steps))
	for i, s := range p.Steps {
		if s.Node == "" {
			s.Node = e.cfg.Node
		}
		if s.Timeout <= 0 {
			s.Timeout = e.stepTimeout(s)
		}
		steps[i] = s
	}
	p.Steps = steps
	return planned{p}
}

func (e *Engine) stepTimeout(s reactions.Step) time.Duration {
	if s.Action == reactions.ActionRun {
		if c, ok := e.cfg.Commands[s.Command]; ok && c.Timeout > 0 {
			return c.Timeout
		}
	} else if v, ok := e.cfg.VIPs[s.VIP]; ok && v.Timeout > 0 && s.Node == e.cfg.Node {
		return v.Timeout
	}
	return e.cfg.StepTimeout
}

// checkPlan refuses explicit plans (manual and peer actions) naming VIPs or
// commands this node does not know.
func (e *Engine) checkPlan(p reactions.Plan) error {
	if len(p.Steps) == 0 {
		return reactions.Invalid("plan has no steps")
	}
	for i, s := range p.Steps {
		local := s.Node == "" || s.Node == e.cfg.Node
		switch s.Action {
		case reactions.ActionEnable, reactions.ActionDisable:
			if _, ok := e.cfg.VIPs[s.VIP]; local && !ok {
				return fmt.Errorf("%w: step %d: unknown vip %q", reactions.ErrNotFound, i, s.VIP)
			}
		case reactions.ActionRun:
			if _, ok := e.cfg.Commands[s.Command]; local && !ok {
				return fmt.Errorf("%w: step %d: unknown command %q", reactions.ErrNotFound, i, s.Command)
			}
		default:
			return reactions.Invalid("step %d: unknown action %q", i, s.Action)
		}
	}
	return nil
}

// run executes one event to its final result.
func (e *Engine) run(ev *reactions.Event, plan planned, matched bool, t *ticket) {
	log := e.log.With().Str("event_id", ev.ID).Logger()
	res := &reactions.Result{
		EventID:  ev.ID,
		Node:     e.cfg.Node,
		Reaction: plan.Reaction,
		ReplayOf: ev.ReplayOf,
		Steps:    []reactions.StepResult{},
	}
	if ev.Runs > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("the agent stopped during run %d of this event; run %d resumed it after restart (steps observe first, so work already done shows as unchanged)", ev.Runs, ev.Runs+1))
	}
	var started <-chan error
	finish := func(status reactions.Status) {
		res.Status = status
		res.FinishedAt = e.cfg.Now().UTC()
		ev.Status = status
		ev.Result = res
		if err := e.cfg.Results.Finish(ev); err != nil {
			// The event stays unfinished in the journal and is run again
			// at the next start; say so loudly.
			log.Error().Err(err).Msg("journal the result")
		}
		if started != nil {
			if err := <-started; err != nil {
				log.Error().Err(err).Msg("journal the start of the event")
			}
		}
		if e.cfg.Observer != nil {
			e.cfg.Observer.EventDone(ev)
		}
		log.Info().Str("status", string(status)).Str("reaction", res.Reaction).Int("steps", len(res.Steps)).Msg("event finished")
		e.wake(ev.ID)
	}
	if !matched {
		res.StartedAt = e.cfg.Now().UTC()
		res.Error = "no reaction rule matches this alarm"
		finish(reactions.StatusUnmatched)
		return
	}
	if !t.wait() {
		res.StartedAt = e.cfg.Now().UTC()
		res.Error = "superseded by a newer event for the same VIP before it started (latest intent wins)"
		for i, s := range plan.Steps {
			res.Steps = append(res.Steps, reactions.StepResult{Index: i, Action: s.Action, VIP: s.VIP, Node: s.Node, Command: s.Command, Outcome: reactions.OutcomeSkipped, Reason: "superseded"})
		}
		finish(reactions.StatusSuperseded)
		return
	}
	defer e.locks.done(t)

	res.StartedAt = e.cfg.Now().UTC()
	ev.Status = reactions.StatusRunning
	ev.Runs++
	// Marking the event running only feeds the "interrupted" note after a
	// crash (the event is re-run either way), so the first step does not
	// wait for that write. The journal commits it before the result, which
	// is queued later.
	started = e.cfg.Journal.UpdateAsync(ev)
	log.Info().Str("reaction", plan.Reaction).Int("steps", len(plan.Steps)).Msg("event running")
	for i, s := range plan.Steps {
		sr := e.step(ev, i, s, res.Steps, log)
		res.Steps = append(res.Steps, sr)
		if e.cfg.Observer != nil && sr.Outcome != reactions.OutcomeSkipped {
			e.cfg.Observer.StepDone(e.kindOf(s), sr)
		}
	}
	status, msg := verdict(res.Steps, plan.Steps)
	res.Error = msg
	finish(status)
}

func (e *Engine) kindOf(s reactions.Step) string {
	switch {
	case s.Node != e.cfg.Node:
		return "peer"
	case s.Action == reactions.ActionRun:
		return "command"
	}
	return e.cfg.VIPs[s.VIP].Kind
}

func (e *Engine) wake(id string) {
	e.mu.Lock()
	ch, ok := e.waiters[id]
	delete(e.waiters, id)
	e.mu.Unlock()
	if ok {
		close(ch)
	}
}

// verdict turns step outcomes into the event's status. A failed disable
// whose node was unreachable does not fail the event when a later enable of
// the same VIP ran under the vip_released guard and succeeded: the guard
// (and the enable's duplicate-address probe) took that failure into account.
func verdict(rs []reactions.StepResult, steps []reactions.Step) (reactions.Status, string) {
	for i, r := range rs {
		if r.Outcome != reactions.OutcomeFailed && r.Outcome != reactions.OutcomeTimeout {
			continue
		}
		if r.Unreachable && r.Action == reactions.ActionDisable && toleratedLater(rs, steps, i) {
			continue
		}
		msg := fmt.Sprintf("step %d (%s %s on %s) %s: %s", i, r.Action, r.VIP+r.Command, r.Node, r.Outcome, r.Error)
		if r.Outcome == reactions.OutcomeTimeout {
			return reactions.StatusTimeout, msg
		}
		return reactions.StatusFailed, msg
	}
	return reactions.StatusSucceeded, ""
}

func toleratedLater(rs []reactions.StepResult, steps []reactions.Step, i int) bool {
	for j := i + 1; j < len(rs); j++ {
		if rs[j].VIP == rs[i].VIP && rs[j].Action == reactions.ActionEnable &&
			slices.Contains(steps[j].When, reactions.WhenReleased) && rs[j].Outcome.OK() {
			return true
		}
	}
	return false
}

// step runs one step, after checking its conditions.
func (e *Engine) step(ev *reactions.Event, i int, s reactions.Step, prior []reactions.StepResult, log zerolog.Logger) reactions.StepResult {
	sr := reactions.StepResult{Index: i, Action: s.Action, VIP: s.VIP, Node: s.Node, Command: s.Command, StartedAt: e.cfg.Now().UTC()}
	if s.Node == e.cfg.Node && s.VIP != "" {
		sr.Backend = e.cfg.VIPs[s.VIP].Kind
	}
	if ok, why := e.conditionsHold(s, prior); !ok {
		sr.Outcome = reactions.OutcomeSkipped
		sr.Reason = why
		return sr
	}
	ctx, cancel := context.WithTimeout(e.base, s.Timeout)
	defer cancel()
	start := time.Now()
	switch {
	case s.Node != e.cfg.Node:
		e.peerStep(ctx, ev, i, s, &sr)
	case s.Action == reactions.ActionRun:
		e.runCommand(ctx, ev, s, &sr)
	default:
		e.vipStep(ctx, s, prior, &sr)
	}
	sr.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	if sr.Outcome == reactions.OutcomeFailed && ctx.Err() != nil {
		sr.Outcome = reactions.OutcomeTimeout
		if sr.Error == "" {
			sr.Error = ctx.Err().Error()
		}
		sr.Error = fmt.Sprintf("deadline of %s exceeded: %s", s.Timeout, sr.Error)
	}
	ev2 := log.Info()
	if !sr.Outcome.OK() {
		ev2 = log.Warn().Str("error", sr.Error)
	}
	ev2.Int("step", i).Str("action", string(s.Action)).Str("vip", s.VIP).Str("command", s.Command).
		Str("node", s.Node).Str("outcome", string(sr.Outcome)).Float64("duration_ms", sr.DurationMS).Msg("step done")
	return sr
}

// conditionsHold evaluates a step's `when` guards against earlier steps.
func (e *Engine) conditionsHold(s reactions.Step, prior []reactions.StepResult) (bool, string) {
	when := s.When
	if len(when) == 0 {
		when = []reactions.Condition{reactions.WhenPreviousSucceeded}
	}
	for _, c := range when {
		switch c {
		case reactions.WhenAlways:
		case reactions.WhenPreviousSucceeded:
			for _, p := range prior {
				if p.Outcome != reactions.OutcomeSkipped && !p.Outcome.OK() {
					return false, fmt.Sprintf("step %d did not succeed", p.Index)
				}
			}
		case reactions.WhenReleased:
			for _, p := range prior {
				if p.VIP != s.VIP || p.Action != reactions.ActionDisable {
					continue
				}
				if p.Outcome.OK() || (p.Outcome == reactions.OutcomeFailed && p.Unreachable) {
					continue
				}
				return false, fmt.Sprintf("vip_released: step %d (disable %s on %s) ended %s", p.Index, p.VIP, p.Node, p.Outcome)
			}
		case reactions.WhenRMAnswers:
			addr := e.cfg.RMAddress[s.Node]
			if addr == "" {
				return false, fmt.Sprintf("rm_answers: no rm_address for node %s", s.Node)
			}
			d := net.Dialer{Timeout: min(2*time.Second, s.Timeout)}
			conn, err := d.DialContext(e.base, "tcp", addr)
			if err != nil {
				return false, fmt.Sprintf("rm_answers: RM of %s at %s does not answer: %v", s.Node, addr, err)
			}
			conn.Close()
		default:
			return false, fmt.Sprintf("unknown condition %q", c)
		}
	}
	return true, ""
}

// vipStep observes, acts only when needed and verifies.
func (e *Engine) vipStep(ctx context.Context, s reactions.Step, prior []reactions.StepResult, sr *reactions.StepResult) {
	v, ok := e.cfg.VIPs[s.VIP]
	if !ok {
		sr.Outcome = reactions.OutcomeFailed
		sr.Error = fmt.Sprintf("vip %q is not configured on node %s", s.VIP, e.cfg.Node)
		return
	}
	want := s.Action == reactions.ActionEnable
	released := want && !s.Force && releasedElsewhere(s.VIP, s.Node, prior)
	for attempt := 1; ; attempt++ {
		sr.Attempts = attempt
		err := e.vipAttempt(ctx, v.Backend, want, s.Force, released, sr)
		if err == nil {
			if attempt > 1 {
				// Keep what went wrong before: a retry that finds the VIP
				// already so would otherwise hide the first failure.
				sr.Reason = fmt.Sprintf("succeeded on attempt %d after: %s", attempt, sr.Error)
				sr.Error = ""
			}
			return
		}
		sr.Outcome = reactions.OutcomeFailed
		sr.Error = err.Error()
		var xe *reactions.ExecError
		if errors.As(err, &xe) {
			sr.Exec = &xe.Exec
		}
		if attempt > e.cfg.Retries || ctx.Err() != nil || errors.Is(err, reactions.ErrDuplicateAddress) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
}

// releasedElsewhere reports whether an earlier step of this event verified
// that a node other than node removed vip (a disable there ended changed or
// unchanged, and nothing enabled it since).
func releasedElsewhere(vip, node string, prior []reactions.StepResult) bool {
	released := false
	for _, p := range prior {
		if p.VIP != vip || (p.Action == reactions.ActionDisable && p.Node == node) {
			continue
		}
		switch {
		case p.Action == reactions.ActionDisable && p.Outcome.OK():
			released = true
		case p.Action == reactions.ActionEnable && p.Outcome != reactions.OutcomeSkipped:
			released = false
		}
	}
	return released
}

func (e *Engine) vipAttempt(ctx context.Context, b Backend, want, force, released bool, sr *reactions.StepResult) error {
	before, err := b.Observe(ctx)
	if err != nil {
		return fmt.Errorf("observe: %w", err)
	}
	sr.Before = &before
	if before.Present == want {
		sr.Outcome = reactions.OutcomeUnchanged
		sr.After = &before
		return nil
	}
	re, quick := b.(ReleasedEnabler)
	switch {
	case want && released && quick:
		err = re.EnableReleased(ctx)
	case want:
		err = b.Enable(ctx, force)
	default:
		err = b.Disable(ctx)
	}
	if err != nil {
		// Record what the act left behind, for the person reading this,
		// even when the step's own deadline has passed.
		octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterFailureObserve)
		if after, oerr := b.Observe(octx); oerr == nil {
			sr.After = &after
		}
		cancel()
		return fmt.Errorf("%s: %w", sr.Action, err)
	}
	var after reactions.VIPState
	if vf, ok := b.(Verifier); ok {
		after, err = vf.Verify(ctx, want)
	} else {
		after, err = b.Observe(ctx)
	}
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	sr.After = &after
	if after.Present != want {
		return fmt.Errorf("verify: %s reported success but the VIP is %s", sr.Action, reactions.Presence(after.Present))
	}
	sr.Outcome = reactions.OutcomeChanged
	return nil
}

// afterFailureObserve bounds the look at a VIP after a failed act.
const afterFailureObserve = 5 * time.Second

// runCommand starts a configured program with the alarm's fields filled in.
func (e *Engine) runCommand(ctx context.Context, ev *reactions.Event, s reactions.Step, sr *reactions.StepResult) {
	sr.Attempts = 1
	c, ok := e.cfg.Commands[s.Command]
	if !ok {
		sr.Outcome = reactions.OutcomeFailed
		sr.Error = fmt.Sprintf("command %q is not configured", s.Command)
		return
	}
	if err := reactions.CheckArgv(c.Argv); err != nil {
		sr.Outcome = reactions.OutcomeFailed
		sr.Error = fmt.Sprintf("command %q: %v", s.Command, err)
		return
	}
	argv := []string{c.Argv[0]}
	for i, a := range c.Argv[1:] {
		v, err := reactions.ExpandArg(a, reactions.ArgValues{Event: ev, VIP: s.VIP})
		if err != nil {
			sr.Outcome = reactions.OutcomeFailed
			sr.Error = fmt.Sprintf("argument %d: %v", i+1, err)
			return
		}
		argv = append(argv, v)
	}
	x, err := command.Run(ctx, argv, command.Options{Dir: c.Dir})
	sr.Exec = &x
	if err != nil {
		sr.Outcome = reactions.OutcomeFailed
		sr.Error = err.Error()
		return
	}
	sr.Outcome = reactions.OutcomeChanged
}

// peerStep hands the step to the node's agent and records its answer.
func (e *Engine) peerStep(ctx context.Context, ev *reactions.Event, i int, s reactions.Step, sr *reactions.StepResult) {
	sr.Attempts = 1
	if e.cfg.Peers == nil {
		sr.Outcome = reactions.OutcomeFailed
		sr.Error = fmt.Sprintf("node %s is not this node and no peers are configured", s.Node)
		return
	}
	got, err := e.cfg.Peers.Do(ctx, s.Node, s, fmt.Sprintf("%s#%d", ev.ID, i))
	if err != nil {
		sr.Outcome = reactions.OutcomeFailed
		sr.Error = err.Error()
		sr.Unreachable = errors.Is(err, reactions.ErrUnreachable)
		if got.PeerEvent != "" {
			sr.PeerEvent = got.PeerEvent
		}
		return
	}
	idx, start := sr.Index, sr.StartedAt
	*sr = got
	// The step is what we asked for, whatever the peer echoed.
	sr.Index, sr.StartedAt, sr.Node, sr.Action, sr.VIP, sr.Command = idx, start, s.Node, s.Action, s.VIP, s.Command
	if sr.Outcome == "" {
		sr.Outcome = reactions.OutcomeFailed
		sr.Error = "peer answered without an outcome"
	}
}

// DryRun shows what an event would do now: the plan and each local VIP's
// observed state. Nothing is journaled or changed.
func (e *Engine) DryRun(ctx context.Context, ev *reactions.Event) *reactions.Result {
	res := &reactions.Result{EventID: ev.ID, Node: e.cfg.Node, DryRun: true, ReplayOf: ev.ID, StartedAt: e.cfg.Now().UTC(), Steps: []reactions.StepResult{}}
	plan, ok := e.planFor(ev)
	if !ok {
		res.Status = reactions.StatusUnmatched
		res.Error = "no reaction rule matches this alarm"
		res.FinishedAt = e.cfg.Now().UTC()
		return res
	}
	res.Reaction = plan.Reaction
	for i, s := range plan.Steps {
		sr := reactions.StepResult{Index: i, Action: s.Action, VIP: s.VIP, Node: s.Node, Command: s.Command, Outcome: reactions.OutcomePlanned}
		if v, ok := e.cfg.VIPs[s.VIP]; ok && s.Node == e.cfg.Node {
			sr.Backend = v.Kind
			octx, cancel := context.WithTimeout(ctx, s.Timeout)
			st, err := v.Backend.Observe(octx)
			cancel()
			if err != nil {
				sr.Error = "observe: " + err.Error()
			} else {
				sr.Before = &st
				if st.Present == (s.Action == reactions.ActionEnable) {
					sr.Reason = "already so: would be unchanged"
				} else {
					sr.Reason = "would change"
				}
			}
		} else if s.Node != e.cfg.Node {
			sr.Reason = "would be sent to node " + s.Node
		}
		res.Steps = append(res.Steps, sr)
	}
	res.Status = reactions.StatusSucceeded
	res.FinishedAt = e.cfg.Now().UTC()
	return res
}

// Observe returns the current state of a local VIP.
func (e *Engine) Observe(ctx context.Context, name string) (reactions.VIPState, string, error) {
	v, ok := e.cfg.VIPs[name]
	if !ok {
		return reactions.VIPState{}, "", fmt.Errorf("%w: vip %q", reactions.ErrNotFound, name)
	}
	ctx, cancel := context.WithTimeout(ctx, e.stepTimeout(reactions.Step{VIP: name, Node: e.cfg.Node}))
	defer cancel()
	st, err := v.Backend.Observe(ctx)
	return st, v.Kind, err
}
