package agent

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/agent/journal"
)

// pairTimeout bounds each look that GET /v1/pair takes: this node's
// backend, or one peer's agent.
const pairTimeout = 5 * time.Second

// pairView observes every VIP on this node and asks every peer's agent for
// its own view, all at once and each bounded, for `vipagent vip status
// --pair`. A node that does not answer is a row saying so.
func (m *Main) pairView(ctx context.Context) api.PairView {
	names := m.Engine.VIPNames()
	nodes := slices.Sorted(maps.Keys(m.Config.Nodes))
	last, lastErr := m.Journal.LastActions()
	peers := watchedPeers{m.peers, m.pair}
	rows := make([]api.PairRow, 0, len(names)*len(nodes))
	for _, vip := range names {
		for _, node := range nodes {
			rows = append(rows, api.PairRow{VIP: vip, Node: node})
		}
	}
	var wg sync.WaitGroup
	for i := range rows {
		row := &rows[i]
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, pairTimeout)
			defer cancel()
			if row.Node == m.Config.Node {
				st, _, err := m.Engine.Observe(cctx, row.VIP)
				at := time.Now().UTC()
				switch {
				case err != nil:
					row.Error = err.Error()
				default:
					row.Present, row.ObservedAt = &st.Present, &at
				}
				if la, ok := last[row.VIP]; ok {
					row.LastAction = &la
				} else if lastErr != nil {
					row.Error = joinText(row.Error, "journal: "+lastErr.Error())
				}
				return
			}
			v, err := peers.VIP(cctx, row.Node, row.VIP)
			at := time.Now().UTC()
			if err != nil {
				row.Error = err.Error()
				return
			}
			row.Present, row.ObservedAt = &v.State.Present, &at
			if v.LastAction != nil {
				row.LastAction = &journal.LastAction{EventID: v.LastEvent, Step: *v.LastAction}
			}
		})
	}
	wg.Wait()
	return api.NewPairView(m.Config.Node, rows)
}

func joinText(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
