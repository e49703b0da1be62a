// Package engine is where an alarm becomes VIP commands: it journals the
// event, asks the rules for a plan, runs the plan's steps one VIP at a time
// (observe, act only if needed, verify), journals the result and wakes
// whoever waits for it.
package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/reactions"
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
// The request carries ctx's deadline: the node never starts the step after
// it. An unreachable node is an error wrapping reactions.ErrUnreachable; a
// node that had seen a newer intent for the VIP answers
// reactions.ErrSuperseded.
type Peers interface {
	Do(ctx context.Context, node string, step reactions.Step, req PeerRequest) (reactions.StepResult, error)
}

// PeerRequest says on whose behalf a step is sent to another node.
type PeerRequest struct {
	// Origin is "<event>#<step>": the other node's idempotency key.
	Origin string
	// IntentAt is when the origin's move was asked for.
	IntentAt time.Time
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
	// CheckOnIntake, when set, is the agent's own check of an event before it is
	// journaled (where an alarm's callback may report to, a reporting
	// concern); every door's event passes it, as it passes Event.Check.
	CheckOnIntake func(ev *reactions.Event) error
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

	mu      sync.Mutex
	waiters map[string]*waiter
	// answered holds peers' events answered before their result was
	// committed, until it is.
	answered map[string]*reactions.Event
	// intents holds the newest intent seen per VIP, from this node's
	// events and from peers' requests: an older intent's steps on that VIP
	// are not run (the later intent wins).
	intents map[string]reactions.Intent
	// moves counts, per VIP, the events touching it that started here and
	// those of them not finished yet (see Moves).
	moves    map[string]*vipMoves
	inFlight int
	closed   bool
	wg       sync.WaitGroup
	// base is the context of every run; cancelled by Close after the grace.
	base   context.Context
	cancel context.CancelFunc

	order     *acceptOrder
	stampMu   sync.Mutex
	lastStamp time.Time
	// intentFloor is the newest intent noted for any VIP: an event accepted
	// here is stamped past it (see stampIntent). Guarded by stampMu.
	intentFloor time.Time

	// reloaded replaces cfg.Rules once SetRules was called.
	reloaded atomic.Pointer[rules.Rules]
}

// Stamp is this node's time for ordering what it is asked: the engine's
// clock, made strictly increasing. Intents are compared by time, and a
// coarse clock would tie two moves asked one after the other (Windows'
// wall clock advances in ticks of up to 15.6 ms), so that neither is the
// newer: each event accepted here, and each reconcile pass that reads the
// journals (reconcile.Config.Now), gets a time after all earlier ones.
func (e *Engine) Stamp() time.Time {
	e.stampMu.Lock()
	defer e.stampMu.Unlock()
	return e.stampLocked()
}

func (e *Engine) stampLocked() time.Time {
	t := e.cfg.Now().UTC()
	if !t.After(e.lastStamp) {
		t = e.lastStamp.Add(time.Nanosecond)
	}
	e.lastStamp = t
	return t
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
		cfg:      cfg,
		log:      cfg.Logger.With().Str("component", "engine").Logger(),
		locks:    newVIPLocks(),
		order:    newAcceptOrder(),
		waiters:  map[string]*waiter{},
		answered: map[string]*reactions.Event{},
		intents:  map[string]reactions.Intent{},
		moves:    map[string]*vipMoves{},
		base:     base,
		cancel:   cancel,
	}
}

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
	if err := ev.Check(); err != nil {
		return nil, false, err
	}
	if e.cfg.CheckOnIntake != nil {
		if err := e.cfg.CheckOnIntake(ev); err != nil {
			return nil, false, err
		}
	}
	if ev.Node == "" {
		ev.Node = e.cfg.Node
	}
	var turn *turn
	if ev.ReceivedAt.IsZero() {
		turn = e.stampIntent(ev)
	}
	// Every way out of Submit passes the turn, so no later event waits
	// for this one for ever.
	defer turn.pass()
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
	// Waiters may ask for the event as soon as Accept returned, while it
	// waits for its turn to queue: they wait for its result, not for the
	// journal's "accepted".
	e.expect(stored.ID)
	turn.wait()
	e.start(stored)
	return stored, false, nil
}

func (e *Engine) release() {
	e.mu.Lock()
	e.inFlight--
	e.mu.Unlock()
	e.wg.Done()
}

// stampIntent gives an event this node is asked for its time of receipt
// and, when it brings no intent of its own, the intent it acts for: the
// receipt, or just past the newest intent noted here when the clock says
// otherwise (it stepped back, or a peer's runs ahead), so that the pair
// never stops moving because of a clock. Both are taken in one critical
// section, so events stamped later have later intents; noting them (start)
// keeps the newest per VIP whatever order it happens in, and the newest
// accepted intent wins however the goroutines that accepted them are
// scheduled. An event that brings its own intent keeps it: reconcile's
// drift events are as old as the journals their pass read, so that a move
// asked meanwhile wins over their repair.
//
// It returns the event's turn to queue (see acceptOrder), taken under the
// same lock, so that events queue in the order of their stamps.
func (e *Engine) stampIntent(ev *reactions.Event) *turn {
	e.stampMu.Lock()
	defer e.stampMu.Unlock()
	ev.ReceivedAt = e.stampLocked()
	t := e.order.take()
	if !e.cfg.Supersede || ev.Origin != "" || !ev.IntentAt.IsZero() {
		return t
	}
	if !ev.ReceivedAt.After(e.intentFloor) {
		ev.IntentAt = e.intentFloor.Add(time.Nanosecond)
		e.intentFloor = ev.IntentAt
	}
	return t
}

// start queues a stored event behind the earlier events of its VIPs and
// runs it in the background; the caller has counted it in flight. An event
// whose caller's deadline has already passed is neither noted nor queued:
// it ends expired at once, and an intent nobody waits for any more
// replaces no other.
func (e *Engine) start(ev *reactions.Event) {
	plan, matched := e.planFor(ev)
	e.expect(ev.ID)
	var ticket *ticket
	if matched && !e.expired(ev) {
		e.noteIntent(ev.Intent(), plan.vips())
		ticket = e.locks.enqueue(ev.ID, plan.vips(), ev.Intent(), e.cfg.Supersede)
	}
	var touched []string
	if ticket != nil {
		touched = ticket.vips
	}
	e.moveStarts(touched)
	// The run works on its own copy: the caller keeps the accepted event.
	own := *ev
	go func() {
		defer e.release()
		// After run: its result is committed (or the engine stopped), so
		// the journal knows the move once it no longer counts as moving.
		defer e.moveEnds(touched)
		e.run(&own, plan, matched, ticket)
	}()
}

// vipMoves is one VIP's count of moves: started ever, and unfinished.
type vipMoves struct{ started, running uint64 }

// Moves tells whether a VIP's moves on this node are all in the journal:
// how many events touching it have started here, and whether one has not
// finished (its intent and steps are journaled only when it finishes) or
// an event is being accepted (its VIPs are not known yet). Two calls with
// nothing between them moving (reactions.Moves.Settled) bracket a read of
// the journal that knows every move asked of the VIP here so far.
func (e *Engine) Moves(vip string) reactions.Moves {
	// Accepting first: an accepted event counts as started before it
	// passes its turn, so one that passed after this check is counted below.
	accepting := e.order.pending()
	e.mu.Lock()
	defer e.mu.Unlock()
	m := e.moves[vip]
	if m == nil {
		return reactions.Moves{Busy: accepting}
	}
	return reactions.Moves{Started: m.started, Busy: accepting || m.running > 0}
}

func (e *Engine) moveStarts(vips []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, v := range vips {
		m := e.moves[v]
		if m == nil {
			m = &vipMoves{}
			e.moves[v] = m
		}
		m.started++
		m.running++
	}
}

func (e *Engine) moveEnds(vips []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, v := range vips {
		e.moves[v].running--
	}
}

// expect makes Wait block for event id until it is final.
func (e *Engine) expect(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.waiters[id]; !ok {
		e.waiters[id] = &waiter{done: make(chan struct{})}
	}
}

// Wait blocks until the event is final or ctx ends, and returns the event
// as journaled.
func (e *Engine) Wait(ctx context.Context, id string) (*reactions.Event, error) {
	e.mu.Lock()
	w, ok := e.waiters[id]
	e.mu.Unlock()
	if ok {
		select {
		case <-w.done:
			if w.ev != nil {
				c := *w.ev
				return &c, nil
			}
		case <-ctx.Done():
		}
	}
	e.mu.Lock()
	ev, ok := e.answered[id]
	e.mu.Unlock()
	if ok {
		c := *ev
		return &c, nil
	}
	return e.cfg.Journal.Get(id)
}

// waiter lets callers wait for an event to finish; ev is set before done
// is closed, nil when the result could not be journaled.
type waiter struct {
	done chan struct{}
	ev   *reactions.Event
}

// noteIntent records in as the intent for its VIPs where it is the newest,
// and moves the floor of this node's stamps past it (see stampIntent).
func (e *Engine) noteIntent(in reactions.Intent, vips []string) {
	if !e.cfg.Supersede {
		return
	}
	e.stampMu.Lock()
	if in.At.After(e.intentFloor) {
		e.intentFloor = in.At
	}
	e.stampMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, v := range vips {
		if cur, ok := e.intents[v]; !ok || in.After(cur) {
			e.intents[v] = in
		}
	}
}

// supersededOn reports the newer intent that replaced in for vip, if any.
func (e *Engine) supersededOn(in reactions.Intent, vip string) (reactions.Intent, bool) {
	if !e.cfg.Supersede || vip == "" {
		return reactions.Intent{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	cur, ok := e.intents[vip]
	return cur, ok && cur.After(in)
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
