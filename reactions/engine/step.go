package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/rs/zerolog"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/command"
	"github.com/vipagent/vipagent/reactions/retry"
)

// step runs one step, after checking its conditions.
func (e *Engine) step(ev *reactions.Event, i int, s reactions.Step, prior []reactions.StepResult, log zerolog.Logger) reactions.StepResult {
	sr := reactions.StepResult{Index: i, Action: s.Action, VIP: s.VIP, Node: s.Node, Command: s.Command, StartedAt: e.cfg.Now().UTC()}
	if s.Node == e.cfg.Node && s.VIP != "" {
		sr.Backend = e.cfg.VIPs[s.VIP].Kind
	}
	ctx, cancel := context.WithTimeout(e.base, s.Timeout)
	defer cancel()
	if !ev.Deadline.IsZero() {
		// The caller stops listening then: nothing of ours runs past it.
		var cancelDL context.CancelFunc
		ctx, cancelDL = context.WithDeadline(ctx, ev.Deadline)
		defer cancelDL()
	}
	if ok, why := e.conditionsHold(ctx, s, prior); !ok {
		sr.Outcome = reactions.OutcomeSkipped
		sr.Reason = why
		return sr
	}
	start := time.Now()
	switch {
	case s.Node != e.cfg.Node:
		e.peerStep(ctx, ev, i, s, prior, &sr)
	case s.Action == reactions.ActionRun:
		e.runCommand(ctx, ev, s, &sr)
	default:
		e.vipStep(ctx, s, prior, &sr)
	}
	sr.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	if sr.Outcome == reactions.OutcomeFailed && ctx.Err() != nil && !sr.Unreachable {
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
// rm_answers dials with the step's context: its bound and its caller's
// deadline.
func (e *Engine) conditionsHold(ctx context.Context, s reactions.Step, prior []reactions.StepResult) (bool, string) {
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
			conn, err := d.DialContext(ctx, "tcp", addr)
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
	released := want && !s.Force && (s.Released || releasedElsewhere(s.VIP, s.Node, prior))
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
		if !retry.Wait(ctx, stepBackoff.Delay(attempt, 0)) {
			return
		}
	}
}

// stepBackoff paces the attempts of a failed VIP step: soon, within the
// step's own bound.
var stepBackoff = retry.Backoff{Base: 200 * time.Millisecond, Linear: true}

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
	re, quick := b.(ReleasedEnabler)
	// A holder whose cluster shows other holders (NLB: another converged
	// host) is not "already so" for an enable, which means this node only.
	if before.Present == want && !(want && before.Holders > 1) {
		sr.Outcome = reactions.OutcomeUnchanged
		sr.After = &before
		if want && released && quick {
			// The VIP just left another node in this event, and clients
			// may still have that node's MAC: announce it again from here.
			if err := re.EnableReleased(ctx); err != nil {
				sr.Reason = "already present; announcing it again failed: " + err.Error()
			} else {
				sr.Reason = "already present; announced again, since another node just released it"
			}
		}
		return nil
	}
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
func (e *Engine) peerStep(ctx context.Context, ev *reactions.Event, i int, s reactions.Step, prior []reactions.StepResult, sr *reactions.StepResult) {
	sr.Attempts = 1
	if e.cfg.Peers == nil {
		sr.Outcome = reactions.OutcomeFailed
		sr.Error = fmt.Sprintf("node %s is not this node and no peers are configured", s.Node)
		return
	}
	in := ev.Intent()
	if s.Action == reactions.ActionEnable && !s.Force && releasedElsewhere(s.VIP, s.Node, prior) {
		s.Released = true
	}
	got, err := e.cfg.Peers.Do(ctx, s.Node, s, PeerRequest{Origin: fmt.Sprintf("%s#%d", in.ID, i), IntentAt: in.At})
	if got.PeerEvent != "" {
		sr.PeerEvent = got.PeerEvent
	}
	switch {
	case err == nil:
	case errors.Is(err, reactions.ErrSuperseded):
		sr.Outcome, sr.Superseded, sr.Reason = reactions.OutcomeSkipped, true, err.Error()
		return
	case ctx.Err() != nil || errors.Is(err, reactions.ErrExpired):
		// We stopped listening: the node may have acted or not. Neither
		// success nor failure; the next observation decides.
		sr.Outcome = reactions.OutcomeUnknown
		sr.Error = fmt.Sprintf("no answer from node %s within the step's deadline; it may or may not have acted (reconcile observes and converges): %v", s.Node, err)
		return
	default:
		sr.Outcome = reactions.OutcomeFailed
		sr.Error = err.Error()
		sr.Unreachable = errors.Is(err, reactions.ErrUnreachable)
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
