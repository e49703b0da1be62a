package peer

import (
	"time"

	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/reactions"
)

// MaxStepTimeout bounds a manual or peer step's timeout and deadline.
const MaxStepTimeout = 10 * time.Minute

// maxIntentAhead bounds how far a peer's intent_at may be ahead of this
// node's clock: a move asked in the future would supersede every move for
// that long.
const maxIntentAhead = time.Minute

// Target is what POST /v1/vips/{name}/{action} acts on: a VIP this node
// knows, and the node itself.
type Target struct {
	Node   string
	VIP    string
	Action reactions.Action
}

// Event is the server half of the peer protocol (Client.Do is the other):
// it checks a VIP action request, a person's or another node's, and returns
// the event it asks for. Only a peer (origin set) may say the VIP was
// released or send its deadline and intent; deadline is the caller's from
// the request's header, if any (the earlier of the two counts).
func Event(req api.VIPActionRequest, t Target, deadline, now time.Time) (*reactions.Event, error) {
	switch {
	case req.Released && (t.Action != reactions.ActionEnable || req.Origin == ""):
		return nil, reactions.Invalid("released: only on an enable a peer asks for")
	case req.Force && t.Action != reactions.ActionEnable:
		return nil, reactions.Invalid("force: only for enable")
	case req.TimeoutMS < 0 || req.TimeoutMS > int64(MaxStepTimeout/time.Millisecond):
		return nil, reactions.Invalid("timeout_ms: must be between 0 and %d", MaxStepTimeout.Milliseconds())
	case !req.Deadline.IsZero() && req.Deadline.After(now.Add(MaxStepTimeout)):
		return nil, reactions.Invalid("deadline: more than %s ahead (are both nodes' clocks in sync?)", MaxStepTimeout)
	}
	if err := reactions.CheckText("reason", req.Reason); err != nil {
		return nil, err
	}
	if req.IntentAt.After(now.Add(maxIntentAhead)) {
		return nil, reactions.Invalid("intent_at: more than %s ahead of this node's clock (are both nodes' clocks in sync?)", maxIntentAhead)
	}
	if (!req.Deadline.IsZero() || !req.IntentAt.IsZero()) && req.Origin == "" {
		return nil, reactions.Invalid("deadline, intent_at: only with origin (peer requests)")
	}
	src := reactions.SourceManual
	if req.Origin != "" {
		src = reactions.SourcePeer
	}
	reaction := "manual-" + string(t.Action)
	step := reactions.Step{Action: t.Action, VIP: t.VIP, Node: t.Node, Force: req.Force, Released: req.Released,
		Timeout: time.Duration(req.TimeoutMS) * time.Millisecond}
	return &reactions.Event{
		Key: req.ID, Source: src, Origin: req.Origin, Deadline: earliest(req.Deadline, deadline), IntentAt: req.IntentAt,
		Alarm: reactions.Alarm{ID: req.ID, Condition: reaction, Text: req.Reason},
		Plan:  &reactions.Plan{Reaction: reaction, Steps: []reactions.Step{step}},
	}, nil
}

// earliest is the earlier of two deadlines, zero meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
