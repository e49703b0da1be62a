package httpapi

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/vipagent/vipagent/agent/journal"
)

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

func (s *server) handlePair(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Pair(r.Context()))
}

// PairFunc answers GET /v1/pair; every call it makes to a peer is bounded.
type PairFunc func(ctx context.Context) PairView
