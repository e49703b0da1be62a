// Package reconcile checks, periodically, that every VIP is on exactly one
// node and on the node it should be on, and reports (and with auto_fix,
// repairs) the drift it finds.
//
// The desired owner of a VIP is derived from the journals, this node's and
// each reachable peer's (the peers' GET /v1/vips/{name} carries their last
// action): the most recent successful step on the VIP (outcome changed or
// unchanged) decides.
//   - An enable on node N makes N the owner.
//   - A disable on node N rules N out: the owner is the node of the most
//     recent successful enable on another node if one is known, else the
//     configured owner unless that is N, else nobody. This is how the Genesys
//     sequence (the new active RM enables itself, SCS's reaction disables the
//     stopped one) keeps the new node as owner whatever the order, and how a
//     VIP released on purpose (RM stopped by an operator) is not put back.
//   - With no successful step anywhere, the configured owner (vips.*.owner).
//   - Released on every node: when the moves since the newest enable took
//     the VIP off every node of the pair (INIT.bat or `failover disable` on
//     both), nobody should hold it until an enable or an alarm move names
//     a node. That is the Genesys start-up state "none until RM elects":
//     reconcile logs it (kind released, not a drift) and never re-enables;
//     a node that still holds the VIP then is a drift whose repair only
//     disables.
//
// A journal records a move when its event finishes, so while a move is
// being accepted or run on a node (this one, or a peer that says so in
// its answer) the journals may not know it: a pass that sees a move in
// flight judges nothing (kind moving, not a drift) and a drift must be
// seen again by two passes with nothing moving. Without this, a pass
// during a slow move (a peer's full disk holds its commit back) takes the
// new holder for a drift from the older owner and moves the VIP back.
//
// Nodes' clocks are compared, so keep them in sync (NTP).
//
// Drift kinds: none (on no node), both (on two or more), wrong (on one
// node, not the owner). A node that cannot be observed makes the state
// unknown: logged, not a drift (two holders already seen are still both).
// A node whose agent does not manage the VIP (404) is left out.
//
// A drift is acted upon only when two passes in a row see the same state,
// so that a move in progress (disable done, enable not yet) is not taken
// for a drift; and only once per state: the last drift per VIP is kept in
// memory, a changed state is new, a cleared one is logged. After a restart
// a standing drift is reported once more.
//
// Exactly one node reports and repairs a VIP's drift: the desired owner
// (else the configured owner, else the first node by name); the others
// only log what they see. Two agents repairing the same VIP at once would
// each hold their own VIP lock while waiting for the other's: one reporter
// makes that impossible, and reports one event per drift, not one per node.
//
// The drift is journaled as an event from source reconcile with the alarm
// condition VIP_Drift and labels vip, kind, nodes (the holders, comma
// separated), owner and auto_fix. Without auto_fix the event has no plan:
// the reaction rules decide, so users can write a rule for VIP_Drift, and
// with none it ends unmatched, which is still journaled and reported. With
// auto_fix the event carries the built-in plan: disable on every holder
// that is not the owner, then enable on the owner under vip_released
// (never while the disable failed on a reachable node). A repair that did
// not succeed is tried again at the next pass that still sees the drift; a
// drift still (or again) seen after its repair succeeded (the address was
// removed again behind the agent's back) is confirmed afresh by two passes
// and repaired again.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/peer"
	"github.com/vipagent/vipagent/reactions"
)

// Kind is a kind of drift.
type Kind string

const (
	KindOK      Kind = "ok"
	KindNone    Kind = "none"
	KindBoth    Kind = "both"
	KindWrong   Kind = "wrong"
	KindUnknown Kind = "unknown"
	// KindReleased: on no node, as asked: released on every node (INIT on
	// both), none until an enable or an alarm move. Not a drift.
	KindReleased Kind = "released"
	// KindMoving: a move of the VIP is in flight on some node, so the
	// journals may not know it yet. Not judged.
	KindMoving Kind = "moving"
)

// Drift reports whether k is a drift to report.
func (k Kind) Drift() bool { return k == KindNone || k == KindBoth || k == KindWrong }

// Condition is the alarm condition of drift events.
const Condition = "VIP_Drift"

// Reaction names the built-in repair plan.
const Reaction = "reconcile-auto-fix"

// VIP is a VIP to reconcile.
type VIP struct {
	// Owner is the configured owner, used when the journals know nothing.
	Owner   string
	AutoFix bool
}

// Peers observe VIPs on other nodes.
type Peers interface {
	VIP(ctx context.Context, node, vip string) (peer.VIP, error)
}

// Config is what a Reconciler is built from.
type Config struct {
	Node string
	// Nodes are all nodes of the pair, this one included.
	Nodes []string
	VIPs  map[string]VIP
	// Local observes a VIP on this node.
	Local func(ctx context.Context, vip string) (reactions.VIPState, error)
	Peers Peers
	// LastActions returns this node's journaled last step per VIP.
	LastActions func() (map[string]journal.LastAction, error)
	// LastIntents returns this node's journaled newest intent per VIP;
	// nil means none.
	LastIntents func() (map[string]reactions.VIPIntent, error)
	// Moves says whether a move of a VIP is in flight on this node (the
	// engine's Moves); nil means never.
	Moves func(vip string) reactions.Moves
	// Submit journals an event and starts it (the engine's Submit).
	Submit func(ev *reactions.Event) (*reactions.Event, bool, error)
	// OnDrift is told about every drift journaled (metrics); may be nil.
	OnDrift func(k Kind)
	// Status reads a journaled event's status, so that a repair that did
	// not succeed is tried again at a later pass; nil never retries.
	Status func(id string) (reactions.Status, error)
	// ObserveTimeout bounds each observation; 0 means 5 s.
	ObserveTimeout time.Duration
	// Now stamps the moment a pass reads the journals; it must order with
	// the times Submit gives events (the engine's Stamp), or a move asked
	// in the same clock tick would tie with the repair. nil means time.Now.
	Now    func() time.Time
	Logger zerolog.Logger
}

// State is what one pass saw of a VIP.
type State struct {
	VIP  string
	Kind Kind
	// Holders are the nodes the VIP is on, sorted.
	Holders []string
	// Unknown are the nodes that could not be observed.
	Unknown []string
	// Moving are the nodes with a move of the VIP in flight.
	Moving []string
	// Owner is the desired owner ("" for nobody); Why says how it was found.
	Owner string
	Why   string
	// Released is set when the VIP was released on every node since the
	// newest enable: nobody should hold it.
	Released bool
	// Reporter is the node that reports and repairs this VIP's drift.
	Reporter string
	// EventID is set when the pass journaled a drift event.
	EventID string
}

func (s State) key() string {
	return string(s.Kind) + "|" + strings.Join(s.Holders, ",") + "|" + s.Owner + "|" + strings.Join(s.Moving, ",")
}

// Reconciler compares VIP state with the desired owner.
type Reconciler struct {
	cfg Config
	log zerolog.Logger

	// mu serialises passes: the memory below belongs to one pass at a time.
	mu sync.Mutex
	// seen is the state of the previous pass per VIP (for confirmation);
	// reported is the last drift journaled per VIP.
	seen     map[string]string
	reported map[string]string
	// repairs is the repair event journaled per VIP for the drift in
	// reported, if it carried a plan.
	repairs map[string]string
	// released is set per VIP while it is released on every node (logged
	// once when it starts).
	released map[string]bool
}

// New returns a reconciler.
func New(cfg Config) *Reconciler {
	if cfg.ObserveTimeout <= 0 {
		cfg.ObserveTimeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Reconciler{
		cfg:      cfg,
		log:      cfg.Logger.With().Str("component", "reconcile").Logger(),
		seen:     map[string]string{},
		reported: map[string]string{},
		repairs:  map[string]string{},
		released: map[string]bool{},
	}
}

// Run makes one pass over every VIP and returns what it saw. Errors of
// individual VIPs are joined; the other VIPs are still reconciled.
func (r *Reconciler) Run(ctx context.Context) ([]State, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.cfg.VIPs))
	for n := range r.cfg.VIPs {
		names = append(names, n)
	}
	slices.Sort(names)
	local, err := r.local(names)
	if err != nil {
		return nil, err
	}
	var out []State
	var errs []error
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		st, err := r.reconcile(ctx, name, local)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, st)
	}
	return out, errors.Join(errs...)
}

// observation is one node's view of a VIP.
type observation struct {
	node   string
	state  reactions.VIPState
	last   *reactions.StepResult
	intent *reactions.VIPIntent
	moving bool
	err    error
}

// journaled is what this node's journal says of every VIP, read at at,
// after this node's moves per VIP were read (before).
type journaled struct {
	at      time.Time
	before  map[string]reactions.Moves
	lasts   map[string]journal.LastAction
	intents map[string]reactions.VIPIntent
}

func (r *Reconciler) local(names []string) (journaled, error) {
	j := journaled{before: map[string]reactions.Moves{}}
	for _, n := range names {
		j.before[n] = r.moves(n)
	}
	j.at = r.cfg.Now().UTC()
	var err error
	if j.lasts, err = r.cfg.LastActions(); err != nil {
		return j, fmt.Errorf("reconcile: read last actions: %w", err)
	}
	if r.cfg.LastIntents != nil {
		if j.intents, err = r.cfg.LastIntents(); err != nil {
			return j, fmt.Errorf("reconcile: read intents: %w", err)
		}
	}
	return j, nil
}

func (r *Reconciler) observe(ctx context.Context, name string, local journaled) []observation {
	obs := make([]observation, len(r.cfg.Nodes))
	var wg sync.WaitGroup
	for i, node := range r.cfg.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			octx, cancel := context.WithTimeout(ctx, r.cfg.ObserveTimeout)
			defer cancel()
			o := observation{node: node}
			if node == r.cfg.Node {
				o.state, o.err = r.cfg.Local(octx, name)
				if la, ok := local.lasts[name]; ok {
					step := la.Step
					o.last = &step
				}
				if in, ok := local.intents[name]; ok {
					o.intent = &in
				}
				// Read after the state: the journal and the state are
				// judged together only if nothing moved meanwhile.
				o.moving = !local.before[name].Settled(r.moves(name))
			} else if r.cfg.Peers == nil {
				o.err = fmt.Errorf("node %s: %w: no peers configured", node, reactions.ErrUnreachable)
			} else {
				var v peer.VIP
				v, o.err = r.cfg.Peers.VIP(octx, node, name)
				o.state, o.last, o.intent, o.moving = v.State, v.LastAction, v.Intent, v.Moving
			}
			obs[i] = o
		}()
	}
	wg.Wait()
	return obs
}

func (r *Reconciler) reconcile(ctx context.Context, name string, local journaled) (State, error) {
	v := r.cfg.VIPs[name]
	log := r.log.With().Str("vip", name).Logger()
	st := State{VIP: name}
	// Read before observing, so that a repair seen ended has ended before
	// this pass looked at the nodes.
	repair := r.repairOutcome(name)
	var (
		lasts   []reactions.StepResult
		intents []reactions.VIPIntent
		// managing are the nodes whose agents manage the VIP.
		managing []string
	)
	for _, o := range r.observe(ctx, name, local) {
		if !errors.Is(o.err, reactions.ErrNotFound) {
			managing = append(managing, o.node)
		}
		switch {
		case errors.Is(o.err, reactions.ErrNotFound):
			// That node's agent does not manage this VIP.
			continue
		case o.err != nil:
			st.Unknown = append(st.Unknown, o.node)
			log.Warn().Str("peer_node", o.node).Err(o.err).Msg("could not observe the VIP on a node")
			continue
		}
		if o.state.Present {
			st.Holders = append(st.Holders, o.node)
		}
		if o.moving {
			st.Moving = append(st.Moving, o.node)
		}
		if o.last != nil {
			lasts = append(lasts, *o.last)
		}
		if o.intent != nil {
			intents = append(intents, *o.intent)
		}
	}
	slices.Sort(st.Holders)
	st.Owner, st.Why, st.Released = desire(lasts, intents, managing, v.Owner)
	st.Kind = Classify(st.Holders, st.Unknown, st.Owner)
	if st.Released {
		st.Kind = classifyReleased(st.Kind)
	}
	if len(st.Moving) > 0 {
		st.Kind = KindMoving
	}
	st.Reporter = r.reporter(st.Owner, v.Owner)

	prev := r.seen[name]
	r.seen[name] = st.key()
	if st.Kind != KindReleased {
		delete(r.released, name)
	}
	switch {
	case st.Kind == KindUnknown:
		return st, nil
	case st.Kind == KindMoving:
		if prev != st.key() {
			log.Info().Strs("moving_on", st.Moving).Strs("nodes", st.Holders).
				Msg("a move of the VIP is in flight; the VIP is judged once no node is moving it")
		}
		return st, nil
	case st.Kind == KindReleased:
		delete(r.repairs, name)
		delete(r.reported, name)
		if !r.released[name] {
			r.released[name] = true
			log.Info().Str("kind", string(st.Kind)).Str("why", st.Why).
				Msg("VIP released on every node: none until an enable or an alarm move names a node; reconcile does not re-enable it")
		}
		return st, nil
	case !st.Kind.Drift():
		delete(r.repairs, name)
		if old, ok := r.reported[name]; ok {
			delete(r.reported, name)
			log.Info().Str("was", old).Strs("nodes", st.Holders).Msg("VIP drift cleared")
		}
		return st, nil
	case prev != st.key():
		log.Info().Str("kind", string(st.Kind)).Strs("nodes", st.Holders).Str("owner", st.Owner).
			Msg("VIP drift seen; confirming at the next pass")
		return st, nil
	case r.reported[name] == st.key() && repair == repairSucceeded:
		// The repair worked and the same drift is back (the address was
		// removed again, a late action undid it): a new drift, confirmed
		// by the next pass like any other.
		delete(r.reported, name)
		delete(r.repairs, name)
		log.Warn().Str("kind", string(st.Kind)).Strs("nodes", st.Holders).Str("owner", st.Owner).
			Msg("VIP drift back after a successful repair; confirming at the next pass")
		return st, nil
	case r.reported[name] == st.key() && repair != repairFailed:
		return st, nil
	case r.reported[name] == st.key():
		log.Warn().Str("event_id", r.repairs[name]).Msg("the repair of a standing drift did not succeed; repairing again")
	case st.Reporter != r.cfg.Node:
		log.Warn().Str("kind", string(st.Kind)).Strs("nodes", st.Holders).Str("owner", st.Owner).
			Str("reporter", st.Reporter).Msg("VIP drift; node " + st.Reporter + " reports and repairs it")
		return st, nil
	}
	ev := r.event(st, v)
	ev.IntentAt = basis(local.at, lasts, intents)
	stored, _, err := r.cfg.Submit(ev)
	if err != nil {
		// Not remembered: the next pass tries to journal it again.
		return st, fmt.Errorf("reconcile vip %s: journal drift: %w", name, err)
	}
	st.EventID = stored.ID
	r.reported[name] = st.key()
	delete(r.repairs, name)
	if ev.Plan != nil {
		r.repairs[name] = stored.ID
	}
	if r.cfg.OnDrift != nil {
		r.cfg.OnDrift(st.Kind)
	}
	log.Warn().Str("kind", string(st.Kind)).Strs("nodes", st.Holders).Str("owner", st.Owner).
		Bool("auto_fix", ev.Plan != nil).Str("event_id", stored.ID).Msg("VIP drift journaled")
	return st, nil
}

// moves reads this node's moves of vip.
func (r *Reconciler) moves(vip string) reactions.Moves {
	if r.cfg.Moves == nil {
		return reactions.Moves{}
	}
	return r.cfg.Moves(vip)
}

// basis is the intent of a drift event: as new as the journals its pass
// read (at), so that a move asked meanwhile is newer and its repair does
// not undo it; and newer than every move they held, so that a peer's clock
// running ahead does not hold the repair back.
func basis(at time.Time, lasts []reactions.StepResult, intents []reactions.VIPIntent) time.Time {
	for _, in := range intents {
		if !in.At.Before(at) {
			at = in.At.Add(time.Nanosecond)
		}
	}
	for _, s := range lasts {
		if s.Outcome.OK() && !s.StartedAt.Before(at) {
			at = s.StartedAt.Add(time.Nanosecond)
		}
	}
	return at
}

// repairState is what became of the repair journaled for a VIP's
// standing drift.
type repairState int

const (
	repairNone    repairState = iota // no repair, or its status is unknown
	repairRunning                    // not final yet
	repairFailed                     // final without success: repair again
	repairSucceeded
)

// repairOutcome reads the status of the repair journaled for vip's
// standing drift. A repair that did not succeed (a fault not yet healed) is
// tried again by the next pass that sees the same drift, so the pair
// converges once the cause is gone; one that succeeded while the drift is
// still (or again) there is confirmed afresh and then repaired again.
func (r *Reconciler) repairOutcome(vip string) repairState {
	id, ok := r.repairs[vip]
	if !ok || r.cfg.Status == nil {
		return repairNone
	}
	st, err := r.cfg.Status(id)
	switch {
	case err != nil:
		return repairNone
	case !st.Final():
		return repairRunning
	case st == reactions.StatusSucceeded:
		return repairSucceeded
	}
	return repairFailed
}

// reporter is the one node that reports and repairs a VIP's drift.
func (r *Reconciler) reporter(desired, configured string) string {
	switch {
	case desired != "":
		return desired
	case configured != "":
		return configured
	}
	nodes := slices.Clone(r.cfg.Nodes)
	slices.Sort(nodes)
	if len(nodes) == 0 {
		return r.cfg.Node
	}
	return nodes[0]
}

// DesiredOwner decides which node should hold a VIP of the pair nodes
// from the moves both journals know: the successful actions (lasts) and
// the intents (what events asked, whatever came of it), and the configured
// owner; see the package documentation. It returns "" for nobody, and why.
func DesiredOwner(lasts []reactions.StepResult, intents []reactions.VIPIntent, nodes []string, configured string) (string, string) {
	owner, why, _ := desire(lasts, intents, nodes, configured)
	return owner, why
}

// desire is DesiredOwner, and whether the VIP was released on every node
// of nodes since the newest enable (INIT on both nodes): then nobody should
// hold it until an enable or an alarm move names a node.
func desire(lasts []reactions.StepResult, intents []reactions.VIPIntent, nodes []string, configured string) (string, string, bool) {
	cands := slices.Clone(intents)
	for _, s := range lasts {
		if !s.Outcome.OK() || s.Node == "" {
			continue
		}
		switch s.Action {
		case reactions.ActionEnable:
			cands = append(cands, reactions.VIPIntent{At: s.StartedAt, On: s.Node})
		case reactions.ActionDisable:
			cands = append(cands, reactions.VIPIntent{At: s.StartedAt, Off: []string{s.Node}})
		}
	}
	if len(cands) == 0 {
		if configured == "" {
			return "", "no move journaled and no owner configured", false
		}
		return configured, "configured owner (no move journaled)", false
	}
	slices.SortStableFunc(cands, func(a, b reactions.VIPIntent) int { return b.At.Compare(a.At) })
	latest := cands[0]
	what := describe(latest)
	if latest.On != "" {
		return latest.On, "newest move: " + what, false
	}
	if offs := releasedSince(cands); len(nodes) > 0 && !slices.ContainsFunc(nodes, func(n string) bool { return !slices.Contains(offs, n) }) {
		return "", fmt.Sprintf("released on every node since the newest enable (newest move: %s): none until an enable or an alarm move", what), true
	}
	for _, c := range cands[1:] {
		if c.On != "" && !slices.Contains(latest.Off, c.On) {
			return c.On, fmt.Sprintf("newest move: %s; before it: %s", what, describe(c)), false
		}
	}
	if configured != "" && !slices.Contains(latest.Off, configured) {
		return configured, fmt.Sprintf("configured owner (newest move: %s)", what), false
	}
	// One holder, never none: the pair's other node takes it.
	for _, n := range slices.Sorted(slices.Values(nodes)) {
		if !slices.Contains(latest.Off, n) {
			return n, fmt.Sprintf("the pair's other node (newest move: %s)", what), false
		}
	}
	return "", fmt.Sprintf("no node to give it to: newest move: %s", what), false
}

// releasedSince lists the nodes the moves newer than the newest enable
// took the VIP off; cands are sorted newest first.
func releasedSince(cands []reactions.VIPIntent) []string {
	var offs []string
	for _, c := range cands {
		if c.On != "" {
			break
		}
		for _, n := range c.Off {
			if !slices.Contains(offs, n) {
				offs = append(offs, n)
			}
		}
	}
	return offs
}

func describe(in reactions.VIPIntent) string {
	var s string
	if in.On != "" {
		s = "to " + in.On
	} else {
		s = "off " + strings.Join(in.Off, ", ")
	}
	if in.EventID != "" {
		s += " (event " + in.EventID + ")"
	}
	return s + " at " + in.At.Format(time.RFC3339Nano)
}

// Classify names the drift of a VIP held by holders, with some nodes not
// observed, when owner should hold it ("" for nobody in particular).
func Classify(holders, unknown []string, owner string) Kind {
	switch {
	case len(holders) >= 2:
		return KindBoth
	case len(unknown) > 0:
		return KindUnknown
	case len(holders) == 0:
		return KindNone
	case owner != "" && holders[0] != owner:
		return KindWrong
	}
	return KindOK
}

// classifyReleased is the kind of a VIP released on every node: on no
// node is what was asked; on any node is a drift.
func classifyReleased(k Kind) Kind {
	switch k {
	case KindNone:
		return KindReleased
	case KindOK:
		return KindWrong
	}
	return k
}

// event builds the drift event, with the repair plan under auto_fix when
// there is an owner to give the VIP to.
func (r *Reconciler) event(st State, v VIP) *reactions.Event {
	nodes := strings.Join(st.Holders, ",")
	if nodes == "" {
		nodes = "-"
	}
	owner := st.Owner
	if owner == "" {
		owner = "-"
	}
	var text string
	switch st.Kind {
	case KindNone:
		text = fmt.Sprintf("vip %s is on no node", st.VIP)
	case KindBoth:
		text = fmt.Sprintf("vip %s is on %d nodes at once: %s", st.VIP, len(st.Holders), strings.Join(st.Holders, ", "))
	case KindWrong:
		text = fmt.Sprintf("vip %s is on %s, not on its owner %s", st.VIP, nodes, st.Owner)
	}
	if st.Released {
		text = fmt.Sprintf("vip %s is on %s, but it was released on every node", st.VIP, strings.Join(st.Holders, ", "))
	}
	text += "; owner: " + st.Why
	ev := &reactions.Event{
		Source: reactions.SourceReconcile,
		Alarm: reactions.Alarm{
			Condition: Condition,
			Host:      r.cfg.Node,
			Severity:  "warning",
			Text:      text,
			Time:      time.Now().UTC(),
			Labels: map[string]string{
				"vip": st.VIP, "kind": string(st.Kind), "nodes": nodes, "owner": owner,
				"auto_fix": strconv.FormatBool(v.AutoFix),
			},
		},
	}
	if v.AutoFix && (st.Owner != "" || st.Released) {
		ev.Plan = RepairPlan(st.VIP, st.Holders, st.Owner)
		ev.Alarm.Text += "; repairing (auto_fix)"
	} else if v.AutoFix {
		ev.Alarm.Text += "; not repaired: no node should hold it"
	}
	return ev
}

// RepairPlan moves vip from holders to owner: disable on every holder that
// is not the owner, then enable on the owner once they released it. With
// no owner ("" for a VIP released on every node) it only disables.
func RepairPlan(vip string, holders []string, owner string) *reactions.Plan {
	p := &reactions.Plan{Reaction: Reaction}
	for _, h := range holders {
		if h != owner {
			p.Steps = append(p.Steps, reactions.Step{Action: reactions.ActionDisable, VIP: vip, Node: h, When: []reactions.Condition{reactions.WhenAlways}})
		}
	}
	if owner == "" {
		return p
	}
	p.Steps = append(p.Steps, reactions.Step{Action: reactions.ActionEnable, VIP: vip, Node: owner, When: []reactions.Condition{reactions.WhenReleased}})
	return p
}
