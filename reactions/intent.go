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
