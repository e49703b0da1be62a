package engine

import (
	"fmt"
	"slices"
	"time"

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
