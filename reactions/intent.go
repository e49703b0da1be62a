package reactions

import (
	"slices"
	"time"
)

// VIPIntent is the latest move asked for a VIP, as one node's journal
// knows it: where the VIP should be (On), or where it should not be (Off).
// Reconcile compares the intents and the successful actions of both nodes'
// journals; the newest decides who should hold the VIP.
type VIPIntent struct {
	EventID string    `json:"event_id"`
	At      time.Time `json:"at"`
	On      string    `json:"on,omitempty"`
	Off     []string  `json:"off,omitempty"`
}

// IntentsOf is what a finished event asked of each VIP its plan touched:
// the node of its last enable (whatever came of it: an enable that could
// not run is still what was asked), or else the nodes it disabled on. An
// event that did not run as itself asks nothing: unmatched, superseded or
// expired events, dry runs, and steps run for another node's event (that
// event's own journal holds the intent).
func IntentsOf(ev *Event) map[string]VIPIntent {
	if ev.Result == nil || ev.Result.DryRun || ev.Source == SourcePeer {
		return nil
	}
	switch ev.Status {
	case StatusUnmatched, StatusSuperseded, StatusExpired:
		return nil
	}
	out := map[string]VIPIntent{}
	at := ev.Intent().At
	for _, s := range ev.Result.Steps {
		if s.VIP == "" || s.Superseded {
			continue
		}
		in := out[s.VIP]
		in.EventID, in.At = ev.ID, at
		switch s.Action {
		case ActionEnable:
			in.On, in.Off = s.Node, nil
		case ActionDisable:
			if in.On == s.Node {
				in.On = ""
			}
			if !slices.Contains(in.Off, s.Node) {
				in.Off = append(in.Off, s.Node)
			}
		}
		out[s.VIP] = in
	}
	for v, in := range out {
		if in.On == "" && len(in.Off) == 0 {
			delete(out, v)
		}
	}
	return out
}

// Moves is what a node's engine says of the moves asked of one VIP there
// (engine.Moves): how many events touching it have started, and whether
// one is still unfinished or being accepted. A journal records a move only
// when its event finishes, so while Busy the journal does not know every
// move asked of the VIP.
type Moves struct {
	Started uint64
	Busy    bool
}

// Settled reports whether nothing moved the VIP between m and a later
// reading later: no event touching it was unfinished at either reading,
// and none started between them. A journal read between two settled
// readings knows every move asked of the VIP on that node until the second.
func (m Moves) Settled(later Moves) bool {
	return !m.Busy && !later.Busy && m.Started == later.Started
}
