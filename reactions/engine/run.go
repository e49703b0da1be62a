package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/rs/zerolog"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/retry"
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

// run executes one event to its final result. t is its place in the
// queues of its VIPs (nil when it has none or did not match).
func (e *Engine) run(ev *reactions.Event, plan planned, matched bool, t *ticket) {
	r := e.newRun(ev, plan, t)
	defer r.releaseVIPs()
	switch {
	case !matched:
		r.finish(reactions.StatusUnmatched, "no reaction rule matches this alarm")
	case !r.lock.wait():
		r.skipRest(0, "superseded", true)
		r.finish(reactions.StatusSuperseded, "superseded by a newer event for the same VIP before it started (latest intent wins)")
	case e.expired(ev):
		r.skipRest(0, "expired", false)
		r.finish(reactions.StatusExpired, fmt.Sprintf("the caller's deadline (%s) passed before the event could start; nothing was done", ev.Deadline.Format(time.RFC3339Nano)))
	default:
		r.markRunning()
		r.finish(r.runSteps())
	}
}

// runState is one event's run: its result as it grows, the VIP lock it
// holds, and the journal write that marked it running.
type runState struct {
	e    *Engine
	ev   *reactions.Event
	plan planned
	res  *reactions.Result
	log  zerolog.Logger
	// lock is the event's place in its VIPs' queues: held while its own
	// steps run, let go while a step runs on another node.
	lock *ticket
	// started is the pending write of the running status, if any.
	started <-chan error
}

func (e *Engine) newRun(ev *reactions.Event, plan planned, t *ticket) *runState {
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
	return &runState{e: e, ev: ev, plan: plan, res: res, log: e.log.With().Str("event_id", ev.ID).Logger(), lock: t}
}

// releaseVIPs lets go of the VIP lock, if the run holds it.
func (r *runState) releaseVIPs() {
	r.e.locks.done(r.lock)
	r.lock = nil
}

// markRunning records that execution starts. It only feeds the
// "interrupted" note after a crash (the event is re-run either way), so the
// first step does not wait for that write; the journal commits it before
// the result, which is queued later.
func (r *runState) markRunning() {
	r.res.StartedAt = r.e.cfg.Now().UTC()
	r.ev.Status = reactions.StatusRunning
	r.ev.Runs++
	r.started = r.e.cfg.Journal.UpdateAsync(r.ev)
	r.log.Info().Str("reaction", r.plan.Reaction).Int("steps", len(r.plan.Steps)).Msg("event running")
}

// skipRest records the steps from the first on as not run, for why.
func (r *runState) skipRest(first int, why string, superseded bool) {
	rest := skipAll(r.plan.Steps[first:], first, why)
	for i := range rest {
		rest[i].Superseded = superseded
	}
	r.res.Steps = append(r.res.Steps, rest...)
}

// finish ends the run with status: the result is committed and whoever
// waits is woken. A peer's request is answered before its result is
// committed: the other node is waiting to act, and a re-run after a crash
// observes first. Every other result is durable before anyone hears of it.
func (r *runState) finish(status reactions.Status, msg string) {
	e, ev, res := r.e, r.ev, r.res
	if res.StartedAt.IsZero() {
		res.StartedAt = e.cfg.Now().UTC()
	}
	res.Status, res.Error = status, msg
	res.FinishedAt = e.cfg.Now().UTC()
	ev.Status = status
	ev.Result = res
	answerFirst := ev.Source == reactions.SourcePeer
	if answerFirst {
		e.wake(ev.ID, ev, true)
	}
	committed := e.commitResult(ev, r.log)
	if r.started != nil {
		if err := <-r.started; err != nil {
			r.log.Error().Err(err).Msg("journal the start of the event")
		}
	}
	if e.cfg.Observer != nil {
		e.cfg.Observer.EventDone(ev)
	}
	r.log.Info().Str("status", string(status)).Str("reaction", res.Reaction).Int("steps", len(res.Steps)).Msg("event finished")
	switch {
	case answerFirst:
		e.committed(ev.ID)
	case committed:
		e.wake(ev.ID, ev, false)
	default:
		// Nobody hears of a result that is not durable: waiters get what
		// the journal holds (still running).
		e.wake(ev.ID, nil, false)
	}
}

// runSteps runs the plan's steps in order and returns the event's status.
// Before each step it checks that the caller's deadline has not passed and
// that no newer intent replaced this one for the step's VIP. A step on
// another node runs without the VIP lock, so that two nodes moving the VIP
// in opposite directions at once never wait on each other; the lock is
// taken again (behind whatever was queued meanwhile) for the steps after
// it.
func (r *runState) runSteps() (reactions.Status, string) {
	e, ev, plan := r.e, r.ev, r.plan
	intent := ev.Intent()
	for i, s := range plan.Steps {
		if e.expired(ev) {
			r.skipRest(i, "expired", false)
			return reactions.StatusExpired, fmt.Sprintf("the caller's deadline (%s) passed before step %d could start", ev.Deadline.Format(time.RFC3339Nano), i)
		}
		if newer, ok := e.supersededOn(intent, s.VIP); ok {
			r.skipRest(i, "superseded by event "+newer.ID+" (the later intent wins)", true)
			return reactions.StatusSuperseded, fmt.Sprintf("superseded by event %s, a newer intent for vip %s, before step %d", newer.ID, s.VIP, i)
		}
		remote := s.Node != e.cfg.Node
		if remote {
			r.releaseVIPs()
		}
		sr := e.step(ev, i, s, r.res.Steps, r.log)
		r.res.Steps = append(r.res.Steps, sr)
		if e.cfg.Observer != nil && sr.Outcome != reactions.OutcomeSkipped {
			e.cfg.Observer.StepDone(e.kindOf(s), sr)
		}
		if sr.Superseded {
			r.skipRest(i+1, "superseded on node "+s.Node, true)
			return reactions.StatusSuperseded, fmt.Sprintf("step %d: %s", i, sr.Reason)
		}
		if remote && i+1 < len(plan.Steps) {
			r.lock = e.locks.enqueue(ev.ID, plan.vips(), intent, false)
			if !r.lock.wait() {
				r.skipRest(i+1, "superseded", true)
				return reactions.StatusSuperseded, "superseded by a newer event for the same VIP (latest intent wins)"
			}
		}
	}
	return verdict(r.res.Steps, plan.Steps)
}

// expired reports whether ev's caller's deadline has passed.
func (e *Engine) expired(ev *reactions.Event) bool {
	return !ev.Deadline.IsZero() && !e.cfg.Now().Before(ev.Deadline)
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
	for failures := 1; ; failures++ {
		err := e.cfg.Results.Finish(ev)
		if err == nil {
			return true
		}
		wait := commitBackoff.Delay(failures, 0)
		log.Error().Err(err).Dur("retry_in", wait).Msg("journal the result; trying again")
		if !retry.Wait(e.base, wait) {
			log.Error().Msg("stopping with the result not journaled: the event runs again at the next start")
			return false
		}
	}
}

// commitBackoff paces commitResult's attempts.
var commitBackoff = retry.Backoff{Base: 50 * time.Millisecond, Cap: 5 * time.Second}

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
}

// committed forgets an answered event once its result is in the journal.
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
