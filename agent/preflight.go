package agent

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/vipagent/vipagent/agent/config"
)

// preflightTimeout bounds each backend's look at the host: wlbs can hang.
const preflightTimeout = 15 * time.Second

// preflighter is a backend that can check, before any failover, that what
// it drives is there (NLB: the control program and the cluster).
type preflighter interface {
	Preflight(ctx context.Context) error
}

// Preflight builds every VIP's backend and runs the checks of those that
// have one, each bounded: `config check` and `serve` exit 2 with these
// problems, so that a host missing NLB is found before the failover.
func Preflight(ctx context.Context, c *config.Config) []string {
	var probs []string
	for _, name := range slices.Sorted(maps.Keys(c.VIPs)) {
		if !c.VIPs[name].Prefix().IsValid() {
			continue
		}
		b, err := newBackend(name, c.VIPs[name], "", c.Nodes[c.Node].MemberID)
		if err != nil {
			continue // Check reports it
		}
		if cl, ok := b.(closer); ok {
			defer cl.Close()
		}
		p, ok := b.(preflighter)
		if !ok {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, preflightTimeout)
		err = p.Preflight(pctx)
		cancel()
		if err != nil {
			probs = append(probs, (&backendError{vip: name, kind: c.VIPs[name].Backend, err: err}).Error())
		}
	}
	return probs
}
