// Package api holds the HTTP API's request and response types, shared by
// the agent's server (httpapi), its peers (peer) and the CLI, so that none
// of them imports another's implementation for them.
package api

import (
	"slices"
	"time"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

const (
	// HeaderDeadline is until when the caller waits (RFC 3339, UTC): a
	// request that is not started by then never acts, and ends expired.
	HeaderDeadline = "X-Vipagent-Deadline"
	// HeaderEvent names the events a request was journaled as; it comes
	// first in a 103 (Early Hints) answer when the request has a deadline,
	// so that a caller that gives up before the result knows its request
	// was accepted.
	HeaderEvent = "X-Vipagent-Event"
)

// AlarmRequest is the body of POST /v1/alarms: the alarm, plus the
// Genesys arguments when `vipagent fire` forwards them.
type AlarmRequest struct {
	reactions.Alarm
	GenesysArgs map[string]string `json:"genesys_args,omitempty"`
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
	// Moving is set while an event touching the VIP is being accepted or
	// run on this node: its move is not in LastAction and Intent yet, so
	// reconcile does not judge the VIP from them.
	Moving bool `json:"moving,omitempty"`
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

// PairView is GET /v1/pair: every VIP as each node of the pair observes it
// now, and whether each is held by exactly one node.
type PairView struct {
	// Node is the node whose agent answered (and asked its peers).
	Node string    `json:"node"`
	Rows []PairRow `json:"rows"`
	VIPs []PairVIP `json:"vips"`
	// OK is true when every node answered and exactly one holds each VIP.
	OK bool `json:"ok"`
}

// PairRow is one node's view of one VIP.
type PairRow struct {
	VIP  string `json:"vip"`
	Node string `json:"node"`
	// Present is null when the node could not tell (Error says why).
	Present    *bool               `json:"present"`
	ObservedAt *time.Time          `json:"observed_at,omitempty"`
	LastAction *journal.LastAction `json:"last_action,omitempty"`
	Error      string              `json:"error,omitempty"`
}

// PairVIP sums one VIP up across the pair.
type PairVIP struct {
	Name    string   `json:"name"`
	Holders []string `json:"holders"`
	// Unknown are the nodes that could not tell.
	Unknown []string `json:"unknown,omitempty"`
	OK      bool     `json:"ok"`
}

// NewPairView sums rows up; node is the node answering.
func NewPairView(node string, rows []PairRow) PairView {
	v := PairView{Node: node, Rows: rows, VIPs: []PairVIP{}, OK: true}
	index := map[string]int{}
	for _, r := range rows {
		i, ok := index[r.VIP]
		if !ok {
			i = len(v.VIPs)
			index[r.VIP] = i
			v.VIPs = append(v.VIPs, PairVIP{Name: r.VIP, Holders: []string{}})
		}
		switch {
		case r.Present == nil:
			v.VIPs[i].Unknown = append(v.VIPs[i].Unknown, r.Node)
		case *r.Present:
			v.VIPs[i].Holders = append(v.VIPs[i].Holders, r.Node)
		}
	}
	for i := range v.VIPs {
		p := &v.VIPs[i]
		slices.Sort(p.Holders)
		slices.Sort(p.Unknown)
		p.OK = len(p.Holders) == 1 && len(p.Unknown) == 0
		v.OK = v.OK && p.OK
	}
	return v
}
