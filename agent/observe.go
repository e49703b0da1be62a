package agent

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/vipagent/vipagent/agent/metrics"
	"github.com/vipagent/vipagent/agent/peer"
	"github.com/vipagent/vipagent/agent/schedule"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
)

// The pair gauges are fed by what the agent does anyway (every observation
// of a local VIP, reconcile's included, and every peer call) and by two
// cheap periodic jobs, so /metrics never has to ask a backend or a peer.
const (
	// observeTimeout bounds the periodic look at one local VIP.
	observeTimeout = 10 * time.Second
	// probeTimeout bounds the periodic GET /healthz of one peer; keep it
	// under the probe interval so that a frozen peer turns 0 within one.
	probeTimeout = 2 * time.Second
)

// watchPair registers the pair gauges, labelled from the configuration
// only, and the step kinds whose failures the alert rules count.
func (m *Main) watchPair() {
	cfg := m.Config
	var vips []metrics.VIP
	kinds := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(cfg.VIPs)) {
		v := cfg.VIPs[name]
		vips = append(vips, metrics.VIP{Name: name, Address: v.Address, Backend: v.Backend})
		kinds[v.Backend] = true
	}
	var peers []string
	for _, n := range slices.Sorted(maps.Keys(cfg.Nodes)) {
		if n != cfg.Node {
			peers = append(peers, n)
			kinds["peer"] = true
		}
	}
	if len(cfg.Commands) > 0 {
		kinds["command"] = true
	}
	m.metrics.StepKinds(slices.Sorted(maps.Keys(kinds))...)
	m.pair = m.metrics.Watch(cfg.Node, vips, peers)
	if !schedule.Disabled(cfg.Schedules.Reconcile) {
		m.pair.ReconcileScheduled()
	}
}

// load is the engine's load for the gauges: memory only.
func (m *Main) load() (int, map[string]metrics.Load) {
	n, qs := m.Engine.Queues()
	out := make(map[string]metrics.Load, len(qs))
	for v, q := range qs {
		out[v] = metrics.Load{Running: q.Running, Queued: q.Waiting}
	}
	return n, out
}

// observeVIPs looks at every local VIP at once, each look bounded, so that
// one hanging backend neither stalls the others nor the job for long.
func (m *Main) observeVIPs(ctx context.Context) error {
	names := m.Engine.VIPNames()
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			octx, cancel := context.WithTimeout(ctx, observeTimeout)
			defer cancel()
			_, _, errs[i] = m.Engine.Observe(octx, name)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// probePeers asks every peer's /healthz at once, each bounded; changes of
// a peer's state are logged, the state itself goes to vipagent_peer_up.
func (m *Main) probePeers(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, node := range m.peers.Nodes() {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, probeTimeout)
			defer cancel()
			err := m.peers.Probe(pctx, node)
			if ctx.Err() != nil {
				return // stopping: say nothing about the peer
			}
			if m.pair.PeerUp(node, err == nil) && !errors.Is(err, peer.ErrNoURL) {
				log := m.Logger.With().Str("component", "probe").Str("peer_node", node).Logger()
				if err != nil {
					log.Warn().Err(err).Msg("peer agent does not answer")
				} else {
					log.Info().Msg("peer agent answers")
				}
			}
		})
	}
	wg.Wait()
	return nil
}

// firstLook observes the VIPs and probes the peers once as the agent
// starts, so the gauges do not wait for the first scheduled run.
func (m *Main) firstLook() job {
	var (
		cancel context.CancelFunc
		done   chan struct{}
	)
	return job{
		name: "first look",
		start: func(ctx context.Context) error {
			var lctx context.Context
			lctx, cancel = context.WithCancel(ctx)
			done = make(chan struct{})
			go func() {
				defer close(done)
				var wg sync.WaitGroup
				wg.Go(func() { m.observeVIPs(lctx) })
				wg.Go(func() { m.probePeers(lctx) })
				wg.Wait()
			}()
			return nil
		},
		stop: func(context.Context) error {
			if done != nil {
				cancel()
				<-done
			}
			return nil
		},
	}
}

// watchedPeers tells the pair gauges whether each peer answered the calls
// steps and reconcile make: an answer (even an error) means up, no answer
// means down; calls never made (no url, no token) say nothing, and neither
// do calls the caller gave up on (its deadline passed while the peer's
// backend was still busy): the /healthz probe tells a frozen agent from a
// slow netsh.
type watchedPeers struct {
	*peer.Client
	pair *metrics.Pair
}

func (w watchedPeers) Do(ctx context.Context, node string, step reactions.Step, req engine.PeerRequest) (reactions.StepResult, error) {
	sr, err := w.Client.Do(ctx, node, step, req)
	w.note(ctx, node, err)
	return sr, err
}

func (w watchedPeers) VIP(ctx context.Context, node, vip string) (peer.VIP, error) {
	v, err := w.Client.VIP(ctx, node, vip)
	w.note(ctx, node, err)
	return v, err
}

func (w watchedPeers) note(ctx context.Context, node string, err error) {
	switch {
	case err == nil, errors.Is(err, reactions.ErrNotFound):
		w.pair.PeerUp(node, true)
	case ctx.Err() != nil:
	case errors.Is(err, reactions.ErrUnreachable):
		w.pair.PeerUp(node, false)
	}
}

// watchBackend records every successful observation of vip (before and
// after each step, reconcile's, the API's, the periodic one) in the pair
// gauges. It keeps the backend's optional capabilities, which the engine
// finds by type assertion.
func watchBackend(b engine.Backend, vip string, pair *metrics.Pair) engine.Backend {
	o := observed{Backend: b, vip: vip, pair: pair}
	vf, verifies := b.(engine.Verifier)
	re, quick := b.(engine.ReleasedEnabler)
	v := observedVerifier{v: vf, vip: vip, pair: pair}
	switch {
	case verifies && quick:
		return struct {
			observed
			observedVerifier
			engine.ReleasedEnabler
		}{o, v, re}
	case verifies:
		return struct {
			observed
			observedVerifier
		}{o, v}
	case quick:
		return struct {
			observed
			engine.ReleasedEnabler
		}{o, re}
	}
	return o
}

type observed struct {
	engine.Backend
	vip  string
	pair *metrics.Pair
}

func (o observed) Observe(ctx context.Context) (reactions.VIPState, error) {
	st, err := o.Backend.Observe(ctx)
	if err == nil {
		o.pair.Observed(o.vip, st, time.Now())
	}
	return st, err
}

type observedVerifier struct {
	v    engine.Verifier
	vip  string
	pair *metrics.Pair
}

func (o observedVerifier) Verify(ctx context.Context, want bool) (reactions.VIPState, error) {
	st, err := o.v.Verify(ctx, want)
	if err == nil {
		o.pair.Observed(o.vip, st, time.Now())
	}
	return st, err
}
