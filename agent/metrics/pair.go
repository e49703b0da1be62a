package metrics

import (
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vipagent/vipagent/agent/version"
	"github.com/vipagent/vipagent/reactions"
)

// VIP is a configured VIP as the pair gauges label it.
type VIP struct {
	Name    string
	Address string
	Backend string
}

// Load is the engine's load on one VIP: the event running on it (0 or 1)
// and the events waiting behind.
type Load struct {
	Running, Queued int
}

// Pair is what the agent knows of the pair: this node's VIPs as last
// observed, its peers as last called or probed, and the reconcile job's
// runs. Scrapes read only this memory: never a backend, never a peer.
// Every label value comes from the configuration given to Watch.
type Pair struct {
	node  string
	vips  []VIP
	peers []string
	load  func() (int, map[string]Load)

	mu       sync.Mutex
	observed map[string]observation
	peerUp   map[string]bool
	// reconcile is nil while the reconcile job is not scheduled.
	reconcile *reconcileRuns
}

type observation struct {
	present bool
	holders int // 0: the backend has no view of the cluster
	at      time.Time
}

type reconcileRuns struct {
	lastRun, lastSuccess time.Time
}

// Watch registers the pair gauges for node, its VIPs and its peers.
func (m *Metrics) Watch(node string, vips []VIP, peers []string) *Pair {
	p := &Pair{
		node:     node,
		vips:     slices.Clone(vips),
		peers:    slices.Clone(peers),
		observed: map[string]observation{},
		peerUp:   map[string]bool{},
	}
	m.reg.MustRegister(p)
	return p
}

// CountLoad adds the engine's load to the gauges: load reports the events
// in flight and each VIP's running and waiting events. The engine is built
// after the metrics it reports to, hence a call of its own.
func (p *Pair) CountLoad(load func() (int, map[string]Load)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.load = load
}

// Observed records an observation of a configured VIP on this node; other
// names are ignored, so that no label value comes from elsewhere.
func (p *Pair) Observed(vip string, st reactions.VIPState, at time.Time) {
	if !slices.ContainsFunc(p.vips, func(v VIP) bool { return v.Name == vip }) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.observed[vip]; ok && old.at.After(at) {
		return
	}
	p.observed[vip] = observation{present: st.Present, holders: st.Holders, at: at}
}

// PeerUp records whether a configured peer's agent answered its last call
// or probe, and reports whether that changed what was known.
func (p *Pair) PeerUp(node string, up bool) (changed bool) {
	if !slices.Contains(p.peers, node) {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old, known := p.peerUp[node]
	p.peerUp[node] = up
	return !known || old != up
}

// ReconcileScheduled exposes the reconcile timestamps (0 until the first
// run or success); without it they are left out, as the job does not run.
func (p *Pair) ReconcileScheduled() {
	p.mu.Lock()
	if p.reconcile == nil {
		p.reconcile = &reconcileRuns{}
	}
	p.mu.Unlock()
}

// ReconcileRan records a pass of the reconcile job that started at start
// and ended with err.
func (p *Pair) ReconcileRan(start time.Time, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reconcile == nil {
		p.reconcile = &reconcileRuns{}
	}
	p.reconcile.lastRun = start
	if err == nil {
		p.reconcile.lastSuccess = start
	}
}

var (
	descPresent = prometheus.NewDesc("vipagent_vip_present",
		"1 when this node held the VIP at its last observation, 0 when it did not; absent until the first one.",
		[]string{"vip", "node", "address", "backend"}, nil)
	descHolders = prometheus.NewDesc("vipagent_vip_cluster_holders",
		"How many hosts take traffic for the VIP in the cluster's own view at this node's last observation (NLB's converged hosts, counting hosts whose agent is down); absent for backends without such a view.",
		[]string{"vip", "node", "address", "backend"}, nil)
	descObserved = prometheus.NewDesc("vipagent_vip_observed_timestamp_seconds",
		"Unix time of the last successful observation of the VIP on this node; 0 before the first.",
		[]string{"vip", "node"}, nil)
	descPeerUp = prometheus.NewDesc("vipagent_peer_up",
		"1 when the peer's agent answered the last call or probe, 0 when it did not; absent until the first one.",
		[]string{"node"}, nil)
	descReconcileRun = prometheus.NewDesc("vipagent_reconcile_last_run_timestamp_seconds",
		"Unix time the last reconcile pass started; 0 before the first.", nil, nil)
	descReconcileOK = prometheus.NewDesc("vipagent_reconcile_last_success_timestamp_seconds",
		"Unix time the last reconcile pass that ended without error started; 0 before the first.", nil, nil)
	descRunning = prometheus.NewDesc("vipagent_vip_events_running",
		"Events running on the VIP (0 or 1: events for one VIP run one at a time).", []string{"vip"}, nil)
	descQueued = prometheus.NewDesc("vipagent_vip_events_queued",
		"Events waiting for the VIP behind the running one.", []string{"vip"}, nil)
	descInFlight = prometheus.NewDesc("vipagent_events_in_flight",
		"Events accepted and not yet finished.", nil, nil)
)

func (p *Pair) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPresent, descHolders, descObserved, descPeerUp, descReconcileRun, descReconcileOK, descRunning, descQueued, descInFlight} {
		ch <- d
	}
}

func (p *Pair) Collect(ch chan<- prometheus.Metric) {
	p.mu.Lock()
	for _, v := range p.vips {
		// The timestamp is there from the start (0 = never), so that a
		// backend that never answers shows as stale instead of missing.
		o, ok := p.observed[v.Name]
		ch <- prometheus.MustNewConstMetric(descObserved, prometheus.GaugeValue, unixSeconds(o.at), v.Name, p.node)
		if ok {
			ch <- prometheus.MustNewConstMetric(descPresent, prometheus.GaugeValue, boolValue(o.present), v.Name, p.node, v.Address, v.Backend)
		}
		if ok && o.holders > 0 {
			ch <- prometheus.MustNewConstMetric(descHolders, prometheus.GaugeValue, float64(o.holders), v.Name, p.node, v.Address, v.Backend)
		}
	}
	for _, n := range p.peers {
		if up, ok := p.peerUp[n]; ok {
			ch <- prometheus.MustNewConstMetric(descPeerUp, prometheus.GaugeValue, boolValue(up), n)
		}
	}
	if r := p.reconcile; r != nil {
		ch <- prometheus.MustNewConstMetric(descReconcileRun, prometheus.GaugeValue, unixSeconds(r.lastRun))
		ch <- prometheus.MustNewConstMetric(descReconcileOK, prometheus.GaugeValue, unixSeconds(r.lastSuccess))
	}
	load := p.load
	p.mu.Unlock()
	if load == nil {
		return
	}
	inFlight, loads := load()
	ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(inFlight))
	for _, v := range p.vips {
		l := loads[v.Name]
		ch <- prometheus.MustNewConstMetric(descRunning, prometheus.GaugeValue, float64(l.Running), v.Name)
		ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, float64(l.Queued), v.Name)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// buildInfo is vipagent_build_info: one series, value 1.
func buildInfo() prometheus.Collector {
	v := version.String()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vipagent_build_info",
		Help: "Always 1; the labels say which vipagent build this is.",
	}, []string{"version", "goversion"})
	g.WithLabelValues(v, runtime.Version()).Set(1)
	return g
}
