// Package metrics exposes vipagent's Prometheus metrics from a registry of
// its own (never the global default one, so tests and several agents in one
// process do not collide). The engine reports finished events and steps
// through the Observer methods; the pair gauges (pair.go) are served from
// the latest observation; the journal's size and the report outbox are read
// at scrape time, at most once a second and never waited for long, so a
// scrape answers promptly during a write storm or a shutdown.
package metrics

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

// Journal is what the scrape-time gauges read.
type Journal interface {
	Stats() (journal.Stats, error)
	Reports(journal.ReportFilter) ([]journal.Report, error)
}

// Metrics holds the agent's metrics. It implements engine.Observer.
type Metrics struct {
	reg        *prometheus.Registry
	log        zerolog.Logger
	alarms     *prometheus.CounterVec
	steps      *prometheus.CounterVec
	stepTime   *prometheus.HistogramVec
	deliveries *prometheus.CounterVec
	drift      *prometheus.CounterVec
	recoveries prometheus.Counter
	reloads    *prometheus.CounterVec
}

// New registers every metric; j may be nil (no journal gauges).
func New(j Journal, log zerolog.Logger) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: log.With().Str("component", "metrics").Logger(),
		alarms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vipagent_alarms_total",
			Help: "Events finished, by the door they came through and their final status.",
		}, []string{"source", "status"}),
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vipagent_steps_total",
			Help: "Steps run (skipped ones excluded), by backend (or peer, command) and outcome.",
		}, []string{"backend", "outcome"}),
		stepTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vipagent_step_duration_seconds",
			Help: "Duration of steps run, observe and verify included.",
			// From an in-memory fake (sub-millisecond) to netsh's 30-45 s.
			Buckets: []float64{.0005, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30, 45, 60},
		}, []string{"backend"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vipagent_report_deliveries_total",
			Help: "Report delivery attempts, by result.",
		}, []string{"result"}),
		drift: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vipagent_reconcile_drift_total",
			Help: "VIP drifts found by the reconcile job (each change of a VIP's drift state counts once), by kind.",
		}, []string{"kind"}),
		recoveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vipagent_journal_recoveries_total",
			Help: "Times the journal was recovered from damage found when opening it.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vipagent_config_reloads_total",
			Help: "Configuration reloads (SIGHUP), by result: applied or refused.",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.alarms, m.steps, m.stepTime, m.deliveries, m.drift, m.recoveries, m.reloads,
		buildInfo(),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []string{"applied", "refused"} {
		m.reloads.WithLabelValues(r)
	}
	if j != nil {
		m.reg.MustRegister(&journalCollector{j: j, now: time.Now})
	}
	return m
}

// StepDone counts a finished step (engine.Observer).
func (m *Metrics) StepDone(kind string, s reactions.StepResult) {
	if kind == "" {
		kind = "unknown"
	}
	m.steps.WithLabelValues(kind, string(s.Outcome)).Inc()
	m.stepTime.WithLabelValues(kind).Observe(s.DurationMS / 1000)
}

// EventDone counts a finished event (engine.Observer).
func (m *Metrics) EventDone(ev *reactions.Event) {
	m.alarms.WithLabelValues(string(ev.Source), string(ev.Status)).Inc()
}

// Delivery counts one report delivery attempt; result is delivered,
// retry, rejected or expired (the reporter's words).
func (m *Metrics) Delivery(result string) {
	m.deliveries.WithLabelValues(result).Inc()
}

// StepKinds makes the failure counters of these step kinds (backends,
// peer, command) exist at 0, so that alert rules see their first failure
// as an increase.
func (m *Metrics) StepKinds(kinds ...string) {
	for _, k := range kinds {
		for _, o := range []reactions.Outcome{reactions.OutcomeFailed, reactions.OutcomeTimeout} {
			m.steps.WithLabelValues(k, string(o))
		}
	}
}

// ConfigReload counts a configuration reload; result is applied or
// refused.
func (m *Metrics) ConfigReload(result string) { m.reloads.WithLabelValues(result).Inc() }

// JournalRecovered counts one recovery of the journal; the journal calls
// it when it repairs what it found on opening.
func (m *Metrics) JournalRecovered() { m.recoveries.Inc() }

// Drift counts a VIP drift found by the reconcile job.
func (m *Metrics) Drift(kind string) {
	m.drift.WithLabelValues(kind).Inc()
}

// Registry is the registry behind Handler, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format. A journal that
// cannot be read leaves its gauges out of the scrape (and is logged)
// rather than failing the whole scrape.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      errorLog{m.log},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

type errorLog struct{ log zerolog.Logger }

func (e errorLog) Println(v ...any) { e.log.Warn().Msg(fmt.Sprint(v...)) }

// journalCollector reads the journal at scrape time, through a snapshot
// that is at most journalMaxAge old: one read serves the scrapes that
// arrive together, and a scrape waits at most journalWait for a read
// before it serves the previous snapshot.
type journalCollector struct {
	j   Journal
	now func() time.Time

	mu   sync.Mutex
	snap *journalSnapshot
	// reading is closed when the read in progress ends; nil when none runs.
	reading chan struct{}
}

const (
	journalMaxAge = time.Second
	journalWait   = time.Second
)

type journalSnapshot struct {
	at       time.Time
	stats    journal.Stats
	statsErr error
	pending  int
	oldest   time.Time
	pendErr  error
}

var (
	descEvents = prometheus.NewDesc("vipagent_journal_events", "Events held in the journal.", nil, nil)
	descBytes  = prometheus.NewDesc("vipagent_journal_bytes", "Size of the journal's data in bytes.", nil, nil)
	descPend   = prometheus.NewDesc("vipagent_outbox_pending", "Reports waiting for delivery.", nil, nil)
	descOldest = prometheus.NewDesc("vipagent_outbox_oldest_pending_seconds", "Age of the oldest report waiting for delivery; 0 when none waits.", nil, nil)
)

func (c *journalCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descEvents
	ch <- descBytes
	ch <- descPend
	ch <- descOldest
}

func (c *journalCollector) read(done chan struct{}) {
	s := &journalSnapshot{at: c.now()}
	s.stats, s.statsErr = c.j.Stats()
	pending, err := c.j.Reports(journal.ReportFilter{State: journal.ReportPending})
	s.pendErr = err
	s.pending = len(pending)
	for _, r := range pending {
		if s.oldest.IsZero() || r.Created.Before(s.oldest) {
			s.oldest = r.Created
		}
	}
	c.mu.Lock()
	c.snap, c.reading = s, nil
	c.mu.Unlock()
	close(done)
}

// snapshot returns a fresh enough snapshot, or the previous one (nil
// before the first read) when the journal does not answer in time.
func (c *journalCollector) snapshot() *journalSnapshot {
	c.mu.Lock()
	if c.snap != nil && c.now().Sub(c.snap.at) < journalMaxAge {
		defer c.mu.Unlock()
		return c.snap
	}
	if c.reading == nil {
		c.reading = make(chan struct{})
		go c.read(c.reading)
	}
	reading, old := c.reading, c.snap
	c.mu.Unlock()
	t := time.NewTimer(journalWait)
	defer t.Stop()
	select {
	case <-reading:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.snap
	case <-t.C:
		return old
	}
}

func (c *journalCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.snapshot()
	if s == nil {
		return
	}
	if s.statsErr != nil {
		err := fmt.Errorf("journal stats: %w", s.statsErr)
		ch <- prometheus.NewInvalidMetric(descEvents, err)
		ch <- prometheus.NewInvalidMetric(descBytes, err)
	} else {
		ch <- prometheus.MustNewConstMetric(descEvents, prometheus.GaugeValue, float64(s.stats.Events))
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(s.stats.Bytes))
	}
	if s.pendErr != nil {
		err := fmt.Errorf("journal reports: %w", s.pendErr)
		ch <- prometheus.NewInvalidMetric(descPend, err)
		ch <- prometheus.NewInvalidMetric(descOldest, err)
		return
	}
	var oldest time.Duration
	if !s.oldest.IsZero() {
		oldest = max(c.now().Sub(s.oldest), 0)
	}
	ch <- prometheus.MustNewConstMetric(descPend, prometheus.GaugeValue, float64(s.pending))
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, oldest.Seconds())
}
