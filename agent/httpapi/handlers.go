package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/peer"
	"github.com/vipagent/vipagent/reactions"
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
	var req api.AlarmRequest
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, dup, err := s.Engine.Submit(&reactions.Event{Key: req.ID, Source: src, Sender: CallerOf(r).ID, Alarm: req.Alarm, GenesysArgs: req.GenesysArgs, Deadline: deadline})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	announce(w, deadline, ev.ID)
	s.respondEvent(w, r, ev, dup, wait)
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
	rep := orig.Replay()
	rep.Sender = CallerOf(r).ID
	rep.Deadline = deadline
	ev, _, err := s.Engine.Submit(rep)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	announce(w, deadline, ev.ID)
	s.respondEvent(w, r, ev, false, wait)
}

// vipView is what this node knows of VIP name: observed now, and the last
// action and intent its journal held (last, intents), read after before.
func (s *server) vipView(r *http.Request, name string, before reactions.Moves, last map[string]journal.LastAction, intents map[string]reactions.VIPIntent) api.VIPView {
	c := s.Config.VIPs[name]
	v := api.VIPView{Name: name, Address: c.Address, Interface: c.Interface, Backend: c.Backend, Node: s.Config.Node}
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
	v.Moving = !before.Settled(s.Engine.Moves(name))
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
	names := s.Engine.VIPNames()
	before := make([]reactions.Moves, len(names))
	for i, name := range names {
		before[i] = s.Engine.Moves(name)
	}
	last, intents, err := s.lastOf()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := []api.VIPView{}
	for i, name := range names {
		out = append(out, s.vipView(r, name, before[i], last, intents))
	}
	writeJSON(w, http.StatusOK, map[string]any{"vips": out})
}

func (s *server) handleGetVIP(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	if _, ok := s.Config.VIPs[name]; !ok {
		s.writeError(w, r, reactions.ErrNotFound)
		return
	}
	before := s.Engine.Moves(name)
	last, intents, err := s.lastOf()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.vipView(r, name, before, last, intents))
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
	var req api.VIPActionRequest
	if err := s.decodeJSON(w, r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, ok := s.Config.VIPs[name]; !ok {
		s.writeError(w, r, reactions.Invalid("unknown vip %q", name))
		return
	}
	ev, err := peer.Event(req, peer.Target{Node: s.Config.Node, VIP: name, Action: action}, deadline, time.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ev.Sender = CallerOf(r).ID
	ev, dup, err := s.Engine.Submit(ev)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	announce(w, deadline, ev.ID)
	s.respondEvent(w, r, ev, dup, wait)
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
	var req api.FailoverRequest
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	plan, err := s.Failover.Plan(req.Action, req.MemberID)
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
	ev, dup, err := s.Engine.Submit(&reactions.Event{Source: reactions.SourceFailover, Sender: CallerOf(r).ID, Alarm: a, Plan: &plan, GenesysArgs: req.GenesysArgs, Deadline: deadline})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	announce(w, deadline, ev.ID)
	s.respondEvent(w, r, ev, dup, wait)
}
