package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/rs/zerolog"
	"github.com/vipagent/vipagent/reactions"
)

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
	p, ok := e.rules().Plan(ev.Alarm)
	if !ok {
		return planned{}, false
	}
	return e.fill(p), true
}

// Forces reports whether running ev would enable a VIP with force: its own
// plan, or the plan the rules give its alarm (what a replay of an alarm
// runs), so that replaying an alarm whose rule forces needs admin.
func (e *Engine) Forces(ev *reactions.Event) bool {
	p, ok := e.planFor(ev)
	return ok && p.Plan.Forces()
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
	} else if v, ok := e.cfg.VIPs[s.VIP]; ok && v.Timeout > 0 {
		// Also for a step on another node: the VIP's timeout is the pair's.
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
		// A peer's request is answered before its result is committed:
		// the other node is waiting to act, and a re-run after a crash
		// observes first. Every other result is durable before anyone
		// hears of it.
		answerFirst := ev.Source == reactions.SourcePeer
		if answerFirst {
			e.wake(ev.ID, ev, true)
		}
		committed := e.commitResult(ev, log)
		if started != nil {
			if err := <-started; err != nil {
				log.Error().Err(err).Msg("journal the start of the event")
			}
		}
		if e.cfg.Observer != nil {
			e.cfg.Observer.EventDone(ev)
		}
		log.Info().Str("status", string(status)).Str("reaction", res.Reaction).Int("steps", len(res.Steps)).Msg("event finished")
		switch {
		case answerFirst:
			e.committed(ev.ID)
		case committed:
			e.wake(ev.ID, ev, false)
		default:
			// Nobody hears of a result that is not durable: waiters get
			// what the journal holds (still running).
			e.wake(ev.ID, nil, false)
		}
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
		res.Steps = superseded(skipAll(plan.Steps, 0, "superseded"))
		finish(reactions.StatusSuperseded)
		return
	}
	// The VIP lock protects this node's own changes; it is let go while a
	// step runs on another node (see runSteps), so t changes.
	defer func() { e.locks.done(t) }()

	res.StartedAt = e.cfg.Now().UTC()
	if e.expired(ev) {
		res.Error = fmt.Sprintf("the caller's deadline (%s) passed before the event could start; nothing was done", ev.Deadline.Format(time.RFC3339Nano))
		res.Steps = skipAll(plan.Steps, 0, "expired")
		finish(reactions.StatusExpired)
		return
	}
	ev.Status = reactions.StatusRunning
	ev.Runs++
	// Marking the event running only feeds the "interrupted" note after a
	// crash (the event is re-run either way), so the first step does not
	// wait for that write. The journal commits it before the result, which
	// is queued later.
	started = e.cfg.Journal.UpdateAsync(ev)
	log.Info().Str("reaction", plan.Reaction).Int("steps", len(plan.Steps)).Msg("event running")
	var status reactions.Status
	t, status, res.Error = e.runSteps(ev, plan, t, res, log)
	finish(status)
}

// runSteps runs the plan's steps in order and returns the ticket it holds
// at the end and the event's status. Before each step it checks that the
// caller's deadline has not passed and that no newer intent replaced this
// one for the step's VIP. A step on another node runs without the VIP
// lock, so that two nodes moving the VIP in opposite directions at once
// never wait on each other; the lock is taken again (behind whatever was
// queued meanwhile) for the steps after it.
func (e *Engine) runSteps(ev *reactions.Event, plan planned, t *ticket, res *reactions.Result, log zerolog.Logger) (*ticket, reactions.Status, string) {
	intent := ev.Intent()
	for i, s := range plan.Steps {
		if e.expired(ev) {
			res.Steps = append(res.Steps, skipAll(plan.Steps[i:], i, "expired")...)
			return t, reactions.StatusExpired, fmt.Sprintf("the caller's deadline (%s) passed before step %d could start", ev.Deadline.Format(time.RFC3339Nano), i)
		}
		if newer, ok := e.supersededOn(intent, s.VIP); ok {
			res.Steps = append(res.Steps, superseded(skipAll(plan.Steps[i:], i, "superseded by event "+newer.ID+" (the later intent wins)"))...)
			return t, reactions.StatusSuperseded, fmt.Sprintf("superseded by event %s, a newer intent for vip %s, before step %d", newer.ID, s.VIP, i)
		}
		remote := s.Node != e.cfg.Node
		if remote {
			e.locks.done(t)
			t = nil
		}
		sr := e.step(ev, i, s, res.Steps, log)
		res.Steps = append(res.Steps, sr)
		if e.cfg.Observer != nil && sr.Outcome != reactions.OutcomeSkipped {
			e.cfg.Observer.StepDone(e.kindOf(s), sr)
		}
		if sr.Superseded {
			res.Steps = append(res.Steps, superseded(skipAll(plan.Steps[i+1:], i+1, "superseded on node "+s.Node))...)
			return t, reactions.StatusSuperseded, fmt.Sprintf("step %d: %s", i, sr.Reason)
		}
		if remote && i+1 < len(plan.Steps) {
			t = e.locks.enqueue(ev.ID, plan.vips(), intent, false)
			if !t.wait() {
				res.Steps = append(res.Steps, superseded(skipAll(plan.Steps[i+1:], i+1, "superseded"))...)
				return t, reactions.StatusSuperseded, "superseded by a newer event for the same VIP (latest intent wins)"
			}
		}
	}
	status, msg := verdict(res.Steps, plan.Steps)
	return t, status, msg
}

// expired reports whether ev's caller's deadline has passed.
func (e *Engine) expired(ev *reactions.Event) bool {
	return !ev.Deadline.IsZero() && !e.cfg.Now().Before(ev.Deadline)
}

// superseded marks skipped steps as replaced by a newer intent.
func superseded(rs []reactions.StepResult) []reactions.StepResult {
	for i := range rs {
		rs[i].Superseded = true
	}
	return rs
}

// skipAll records steps that did not run, numbered from first.
func skipAll(steps []reactions.Step, first int, why string) []reactions.StepResult {
	out := make([]reactions.StepResult, 0, len(steps))
	for i, s := range steps {
		out = append(out, reactions.StepResult{Index: first + i, Action: s.Action, VIP: s.VIP, Node: s.Node, Command: s.Command, Outcome: reactions.OutcomeSkipped, Reason: why})
	}
	return out
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

// commitResult journals ev's result, trying again with backoff while the
// journal refuses (a full disk, say) until it takes it or the engine stops:
// every accepted event ends in a final status, and a result is durable
// before it is reported. An event whose result could not be committed by
// then stays unfinished, and the next start runs it again.
func (e *Engine) commitResult(ev *reactions.Event, log zerolog.Logger) bool {
	backoff := 50 * time.Millisecond
	for {
		err := e.cfg.Results.Finish(ev)
		if err == nil {
			return true
		}
		log.Error().Err(err).Dur("retry_in", backoff).Msg("journal the result; trying again")
		select {
		case <-e.base.Done():
			log.Error().Msg("stopping with the result not journaled: the event runs again at the next start")
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// wake hands the finished event to whoever waits for it (nil: they read
// the journal instead); uncommitted marks a result answered before it was
// committed (see committed).
func (e *Engine) wake(id string, ev *reactions.Event, uncommitted bool) {
	var c *reactions.Event
	if ev != nil {
		cp := *ev
		c = &cp
	}
	e.mu.Lock()
	w, ok := e.waiters[id]
	delete(e.waiters, id)
	if uncommitted && c != nil {
		e.answered[id] = c
	}
	e.mu.Unlock()
	if ok {
		w.ev = c
		close(w.done)
	}
} // committed forgets an answered event once its result is in the journal.
func (e *Engine) committed(id string) {
	e.mu.Lock()
	delete(e.answered, id)
	e.mu.Unlock()
}

// verdict turns step outcomes into the event's status. A failed disable
// whose node was unreachable does not fail the event when a later enable of
// the same VIP ran under the vip_released guard and succeeded: the guard
// (and the enable's duplicate-address probe) took that failure into account.
func verdict(rs []reactions.StepResult, steps []reactions.Step) (reactions.Status, string) {
	for i, r := range rs {
		if r.Outcome != reactions.OutcomeFailed && r.Outcome != reactions.OutcomeTimeout && r.Outcome != reactions.OutcomeUnknown {
			continue
		}
		if r.Unreachable && r.Action == reactions.ActionDisable && toleratedLater(rs, steps, i) {
			continue
		}
		msg := fmt.Sprintf("step %d (%s %s on %s) %s: %s", i, r.Action, r.VIP+r.Command, r.Node, r.Outcome, r.Error)
		if r.Outcome == reactions.OutcomeTimeout || r.Outcome == reactions.OutcomeUnknown {
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
