package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
)

func (s *server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "alive", "node": s.Config.Node})
}

func (s *server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.Draining() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "shutting down", "node": s.Config.Node})
		return
	}
	if err := s.Journal.Ping(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "journal unavailable", "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "node": s.Config.Node, "vips": s.Engine.VIPNames()})
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
	if err := checkArgs(req.GenesysArgs); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, dup, err := s.Intake(req.Alarm, src, req.GenesysArgs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.respondEvent(w, r, ev, dup, wait)
}

// Intake validates an alarm and hands it to the engine, which journals it
// before anything else happens.
func (s *server) Intake(a reactions.Alarm, src reactions.Source, args map[string]string) (*reactions.Event, bool, error) {
	return Intake(s.Config, s.Engine, s.Draining(), a, src, args)
}

// Intake is the one door alarms go through, whatever brought them (this
// API, the Alertmanager receiver): refused while the agent shuts down,
// validated, then journaled by the engine before anything runs.
func Intake(cfg *config.Config, eng *engine.Engine, draining bool, a reactions.Alarm, src reactions.Source, args map[string]string) (*reactions.Event, bool, error) {
	if draining {
		return nil, false, fmt.Errorf("%w: agent is shutting down", reactions.ErrUnavailable)
	}
	if err := a.Validate(); err != nil {
		return nil, false, err
	}
	if err := checkCallback(a.CallbackURL, cfg.CallbackHosts); err != nil {
		return nil, false, err
	}
	return eng.Submit(&reactions.Event{Key: a.ID, Source: src, Alarm: a, GenesysArgs: args})
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

func (s *server) handleReplay(w http.ResponseWriter, r *http.Request) {
	wait, err := waitParam(r, defaultWait)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	orig, err := s.Journal.Get(chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if v := r.URL.Query().Get("dry_run"); v == "true" || v == "1" {
		writeJSON(w, http.StatusOK, s.Engine.DryRun(r.Context(), orig))
		return
	}
	if s.Draining() {
		s.writeError(w, r, reactions.ErrUnavailable)
		return
	}
	ev, _, err := s.Engine.Submit(ReplayOf(orig))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.respondEvent(w, r, ev, false, wait)
}

// ReplayOf makes the event that re-runs orig: same alarm and plan, no
// idempotency key (a replay always runs), linked to the original.
func ReplayOf(orig *reactions.Event) *reactions.Event {
	a := orig.Alarm
	a.ID = ""
	return &reactions.Event{Source: reactions.SourceReplay, Alarm: a, Plan: orig.Plan, ReplayOf: orig.ID, GenesysArgs: orig.GenesysArgs}
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
}

func (s *server) vipView(r *http.Request, name string, last map[string]journal.LastAction) VIPView {
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
	return v
}

func (s *server) handleListVIPs(w http.ResponseWriter, r *http.Request) {
	last, err := s.Journal.LastActions()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := []VIPView{}
	for _, name := range s.Engine.VIPNames() {
		out = append(out, s.vipView(r, name, last))
	}
	writeJSON(w, http.StatusOK, map[string]any{"vips": out})
}

func (s *server) handleGetVIP(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	if _, ok := s.Config.VIPs[name]; !ok {
		s.writeError(w, r, reactions.ErrNotFound)
		return
	}
	last, err := s.Journal.LastActions()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.vipView(r, name, last))
}

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
}

func (s *server) handleVIPAction(w http.ResponseWriter, r *http.Request) {
	wait, err := waitParam(r, defaultWait)
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
	if req.Force && action != reactions.ActionEnable {
		s.writeError(w, r, reactions.Invalid("force: only for enable"))
		return
	}
	if req.TimeoutMS < 0 || req.TimeoutMS > int64(10*time.Minute/time.Millisecond) {
		s.writeError(w, r, reactions.Invalid("timeout_ms: out of range"))
		return
	}
	a := reactions.Alarm{ID: req.ID, Condition: "manual-" + string(action), Text: req.Reason}
	if err := a.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.Draining() {
		s.writeError(w, r, reactions.ErrUnavailable)
		return
	}
	src := reactions.SourceManual
	if req.Origin != "" {
		src = reactions.SourcePeer
	}
	step := reactions.Step{Action: action, VIP: name, Node: s.Config.Node, Force: req.Force, Timeout: time.Duration(req.TimeoutMS) * time.Millisecond}
	ev, dup, err := s.Engine.Submit(&reactions.Event{
		Key: req.ID, Source: src, Alarm: a, Origin: req.Origin,
		Plan: &reactions.Plan{Reaction: "manual-" + string(action), Steps: []reactions.Step{step}},
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.respondEvent(w, r, ev, dup, wait)
}

// checkArgs bounds the Genesys arguments a caller may have journaled.
func checkArgs(args map[string]string) error {
	if len(args) > 16 {
		return reactions.Invalid("genesys_args: too many")
	}
	for k, v := range args {
		probe := reactions.Alarm{Condition: "x", Labels: map[string]string{k: v}}
		if err := probe.Validate(); err != nil {
			return reactions.Invalid("genesys_args: %q: not a plain name and value", k)
		}
	}
	return nil
}

// FailoverRequest is the body of POST /v1/failover, what `vipagent
// failover enable|disable [MEMBERID]` sends.
type FailoverRequest struct {
	Action      string            `json:"action"`
	MemberID    int               `json:"member_id,omitempty"`
	GenesysArgs map[string]string `json:"genesys_args,omitempty"`
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
	var req FailoverRequest
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := checkArgs(req.GenesysArgs); err != nil {
		s.writeError(w, r, err)
		return
	}
	plan, err := FailoverPlan(s.Config, req.Action, req.MemberID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.Draining() {
		s.writeError(w, r, reactions.ErrUnavailable)
		return
	}
	a := reactions.Alarm{Condition: "failover-" + req.Action}
	if req.MemberID > 0 {
		a.Labels = map[string]string{"member_id": strconv.Itoa(req.MemberID)}
	}
	ev, dup, err := s.Engine.Submit(&reactions.Event{Source: reactions.SourceFailover, Alarm: a, Plan: &plan, GenesysArgs: req.GenesysArgs})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.respondEvent(w, r, ev, dup, wait)
}

// FailoverPlan is the plan of a failover call.
func FailoverPlan(c *config.Config, action string, member int) (reactions.Plan, error) {
	var act reactions.Action
	switch action {
	case "enable":
		act = reactions.ActionEnable
	case "disable":
		act = reactions.ActionDisable
	default:
		return reactions.Plan{}, reactions.Invalid("action: must be enable or disable")
	}
	node := c.Node
	if member != 0 {
		n, ok := c.NodeByMember(member)
		if !ok {
			return reactions.Plan{}, reactions.Invalid("member_id: no node has member_id %d (nodes.*.member_id)", member)
		}
		node = n
	}
	vips := c.Failover.VIPs
	if len(vips) == 0 {
		vips = config.SortedKeys(c.VIPs)
	}
	if len(vips) == 0 {
		return reactions.Plan{}, reactions.Invalid("no vips configured")
	}
	plan := reactions.Plan{Reaction: "failover-" + action}
	for _, v := range vips {
		plan.Steps = append(plan.Steps, reactions.Step{Action: act, VIP: v, Node: node, Force: c.Failover.Force && act == reactions.ActionEnable})
	}
	return plan, nil
}
