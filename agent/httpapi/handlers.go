package httpapi

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/rules"
)

func (s *server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	// The time lets the peer send its deadlines in this node's clock.
	writeJSON(w, http.StatusOK, map[string]any{"status": "alive", "node": s.Config.Node, "time": time.Now().UTC()})
}

func (s *server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.Engine.Draining() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "shutting down", "node": s.Config.Node})
		return
	}
	if err := s.Journal.Ping(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "journal unavailable", "error": err.Error()})
		return
	}
	ready := map[string]any{"status": "ready", "node": s.Config.Node, "vips": s.Engine.VIPNames()}
	if s.Recovery != nil {
		ready["journal_recovery"] = s.Recovery
	}
	writeJSON(w, http.StatusOK, ready)
}

// AlarmRequest is the body of POST /v1/alarms: the alarm, plus the
// Genesys arguments when `vipagent fire` forwards them.
type AlarmRequest struct {
	reactions.Alarm
	GenesysArgs map[string]string `json:"genesys_args,omitempty"`
}

func (s *server) handlePostAlarm(w http.ResponseWriter, r *http.Request) {
	wait, err := waitParam(r, defaultWait)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	deadline, err := deadlineOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	src := reactions.SourceHTTP
	switch v := r.URL.Query().Get("source"); v {
	case "", "http":
	case "cli":
		src = reactions.SourceCLI
	default:
		s.writeError(w, r, reactions.Invalid("source: must be http or cli"))
		return
	}
	var req AlarmRequest
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, dup, err := s.Engine.Submit(&reactions.Event{Key: req.ID, Source: src, Alarm: req.Alarm, GenesysArgs: req.GenesysArgs, Deadline: deadline})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	announce(w, deadline, ev.ID)
	s.respondEvent(w, r, ev, dup, wait)
}

func (s *server) handleListEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := journal.Filter{Status: reactions.Status(q.Get("status"))}
	if f.Status != "" && !f.Status.Valid() {
		s.writeError(w, r, reactions.Invalid("status: unknown status %q", f.Status))
		return
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, reactions.Invalid("limit: must be a number from 1 to 1000"))
			return
		}
		f.Limit = n
	}
	evs, err := s.Journal.List(f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if evs == nil {
		evs = []*reactions.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
}

func (s *server) handleGetEvent(w http.ResponseWriter, r *http.Request) {
	ev, err := s.Journal.Get(chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ev)
}

// handleReplay runs an event again, or shows what that would do
// (?dry_run=true). The replay runs the original's plan with the original's
// alarm: it takes no body, so nothing (force least of all) can be added,
// and it needs the role the original needed.
func (s *server) handleReplay(w http.ResponseWriter, r *http.Request) {
	wait, err := waitParam(r, defaultWait)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	dry, err := boolParam(r, "dry_run")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	deadline, err := deadlineOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := noBody(w, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	orig, err := s.Journal.Get(chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if orig.NeedsAdmin() || s.Engine.Forces(orig) {
		if err := needRole(r, config.RoleAdmin, "replay "+orig.ID+" (a manual, peer, reconcile or forced action)"); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if dry {
		writeJSON(w, http.StatusOK, s.Engine.DryRun(r.Context(), orig))
		return
	}
	replay := orig.Replay()
	replay.Deadline = deadline
	ev, _, err := s.Engine.Submit(replay)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	announce(w, deadline, ev.ID)
	s.respondEvent(w, r, ev, false, wait)
}

// VIPView is what GET /v1/vips shows of one VIP.
type VIPView struct {
	Name       string              `json:"name"`
	Address    string              `json:"address"`
	Interface  string              `json:"interface,omitempty"`
	Backend    string              `json:"backend"`
	Node       string              `json:"node"`
	State      *reactions.VIPState `json:"state,omitempty"`
	Error      string              `json:"error,omitempty"`
	ObservedAt time.Time           `json:"observed_at"`
	LastAction *journal.LastAction `json:"last_action,omitempty"`
	// Intent is the newest move this node's journal knows was asked for
	// the VIP (reconcile compares both nodes').
	Intent *reactions.VIPIntent `json:"intent,omitempty"`
}

func (s *server) vipView(r *http.Request, name string, last map[string]journal.LastAction, intents map[string]reactions.VIPIntent) VIPView {
	c := s.Config.VIPs[name]
	v := VIPView{Name: name, Address: c.Address, Interface: c.Interface, Backend: c.Backend, Node: s.Config.Node}
	st, _, err := s.Engine.Observe(r.Context(), name)
	v.ObservedAt = time.Now().UTC()
	if err != nil {
		v.Error = err.Error()
	} else {
		v.State = &st
	}
	if la, ok := last[name]; ok {
		v.LastAction = &la
	}
	if in, ok := intents[name]; ok {
		v.Intent = &in
	}
	return v
}

// lastOf reads the journal's last action and newest intent per VIP.
func (s *server) lastOf() (map[string]journal.LastAction, map[string]reactions.VIPIntent, error) {
	last, err := s.Journal.LastActions()
	if err != nil {
		return nil, nil, err
	}
	intents, err := s.Journal.LastIntents()
	return last, intents, err
}

func (s *server) handleListVIPs(w http.ResponseWriter, r *http.Request) {
	last, intents, err := s.lastOf()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := []VIPView{}
	for _, name := range s.Engine.VIPNames() {
		out = append(out, s.vipView(r, name, last, intents))
	}
	writeJSON(w, http.StatusOK, map[string]any{"vips": out})
}

func (s *server) handleGetVIP(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	if _, ok := s.Config.VIPs[name]; !ok {
		s.writeError(w, r, reactions.ErrNotFound)
		return
	}
	last, intents, err := s.lastOf()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.vipView(r, name, last, intents))
}

// maxStepTimeout bounds a manual or peer step's timeout and deadline.
const maxStepTimeout = 10 * time.Minute

// maxIntentAhead bounds how far a peer's intent_at may be ahead of this
// node's clock.
const maxIntentAhead = time.Minute

// VIPActionRequest is the optional body of POST /v1/vips/{name}/enable|disable.
type VIPActionRequest struct {
	// ID is an idempotency key; peers send "<their event>#<step>".
	ID     string `json:"id,omitempty"`
	Force  bool   `json:"force,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Origin names the event on another node that asked for this action.
	Origin string `json:"origin,omitempty"`
	// TimeoutMS bounds the step; 0 means the VIP's default.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
	// Deadline is when the caller stops listening (peers send it): the
	// step never starts after it, and the event ends expired instead.
	Deadline time.Time `json:"deadline,omitzero"`
	// IntentAt is when the origin's move was asked for (peers send it):
	// the newest intent for a VIP wins.
	IntentAt time.Time `json:"intent_at,omitzero"`
	// Released (peers send it with an enable) says the origin verified that
	// every other node let the VIP go: the duplicate probe is shortened,
	// never skipped.
	Released bool `json:"released,omitempty"`
}

func (s *server) handleVIPAction(w http.ResponseWriter, r *http.Request) {
	wait, err := waitParam(r, defaultWait)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	deadline, err := deadlineOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	name, action := chi.URLParam(r, "name"), reactions.Action(chi.URLParam(r, "action"))
	var req VIPActionRequest
	if err := s.decodeJSON(w, r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, ok := s.Config.VIPs[name]; !ok {
		s.writeError(w, r, reactions.Invalid("unknown vip %q", name))
		return
	}
	if req.Released && (action != reactions.ActionEnable || req.Origin == "") {
		s.writeError(w, r, reactions.Invalid("released: only on an enable a peer asks for"))
		return
	}
	if req.Force && action != reactions.ActionEnable {
		s.writeError(w, r, reactions.Invalid("force: only for enable"))
		return
	}
	if req.TimeoutMS < 0 || req.TimeoutMS > int64(maxStepTimeout/time.Millisecond) {
		s.writeError(w, r, reactions.Invalid("timeout_ms: must be between 0 and %d", maxStepTimeout.Milliseconds()))
		return
	}
	if !req.Deadline.IsZero() && req.Deadline.After(time.Now().Add(maxStepTimeout)) {
		s.writeError(w, r, reactions.Invalid("deadline: more than %s ahead (are both nodes' clocks in sync?)", maxStepTimeout))
		return
	}
	if err := reactions.CheckText("reason", req.Reason); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.IntentAt.After(time.Now().Add(maxIntentAhead)) {
		// A move asked in the future would supersede every move for that
		// long.
		s.writeError(w, r, reactions.Invalid("intent_at: more than %s ahead of this node's clock (are both nodes' clocks in sync?)", maxIntentAhead))
		return
	}
	if (!req.Deadline.IsZero() || !req.IntentAt.IsZero()) && req.Origin == "" {
		s.writeError(w, r, reactions.Invalid("deadline, intent_at: only with origin (peer requests)"))
		return
	}
	a := reactions.Alarm{ID: req.ID, Condition: "manual-" + string(action), Text: req.Reason}
	src := reactions.SourceManual
	if req.Origin != "" {
		src = reactions.SourcePeer
	}
	step := reactions.Step{Action: action, VIP: name, Node: s.Config.Node, Force: req.Force, Released: req.Released, Timeout: time.Duration(req.TimeoutMS) * time.Millisecond}
	ev, dup, err := s.Engine.Submit(&reactions.Event{
		Key: req.ID, Source: src, Alarm: a, Origin: req.Origin, Deadline: earliest(req.Deadline, deadline), IntentAt: req.IntentAt,
		Plan: &reactions.Plan{Reaction: "manual-" + string(action), Steps: []reactions.Step{step}},
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	announce(w, deadline, ev.ID)
	s.respondEvent(w, r, ev, dup, wait)
}

// FailoverRequest is the body of POST /v1/failover, what `vipagent
// failover enable|disable [MEMBERID]` sends.
type FailoverRequest struct {
	Action      string            `json:"action"`
	MemberID    int               `json:"member_id,omitempty"`
	GenesysArgs map[string]string `json:"genesys_args,omitempty"`
	// ExtraArgs are whatever RM put after the member ID: journaled (label
	// args), never interpreted.
	ExtraArgs []string `json:"extra_args,omitempty"`
}

// handleFailover maps RM's failoverscript convention ("enable 2": the VIP
// goes to member 2; "disable 1": member 1 lets it go; no member: this
// node) to the configured VIPs, on this node or through the peer.
func (s *server) handleFailover(w http.ResponseWriter, r *http.Request) {
	wait, err := waitParam(r, defaultWait)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	deadline, err := deadlineOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req FailoverRequest
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	plan, err := failoverOf(s.Config).Plan(req.Action, req.MemberID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a := reactions.Alarm{Condition: "failover-" + req.Action, Labels: map[string]string{}}
	if req.MemberID > 0 {
		a.Labels["member_id"] = strconv.Itoa(req.MemberID)
	}
	if len(req.ExtraArgs) > 0 {
		a.Labels["args"] = strings.Join(req.ExtraArgs, " ")
	}
	ev, dup, err := s.Engine.Submit(&reactions.Event{Source: reactions.SourceFailover, Alarm: a, Plan: &plan, GenesysArgs: req.GenesysArgs, Deadline: deadline})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	announce(w, deadline, ev.ID)
	s.respondEvent(w, r, ev, dup, wait)
}

// failoverOf is the pair as RM's failoverscript convention sees it.
func failoverOf(c *config.Config) rules.Failover {
	f := rules.Failover{Node: c.Node, Nodes: slices.Sorted(maps.Keys(c.Nodes)), Members: map[int]string{}, VIPs: c.Failover.VIPs, Force: c.Failover.Force}
	for name, n := range c.Nodes {
		if n.MemberID != 0 {
			f.Members[n.MemberID] = name
		}
	}
	if len(f.VIPs) == 0 {
		f.VIPs = slices.Sorted(maps.Keys(c.VIPs))
	}
	return f
}
