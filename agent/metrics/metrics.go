// Package metrics exposes vipagent's Prometheus metrics from a registry of
// its own (never the global default one, so tests and several agents in one
// process do not collide). The engine reports finished events and steps
// through the Observer methods; the journal's size and the report outbox
// are read at scrape time, so they are never stale.
package metrics

import (
	"fmt"
	"net/http"
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
	}
	m.reg.MustRegister(m.alarms, m.steps, m.stepTime, m.deliveries, m.drift,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
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

// journalCollector reads the journal at scrape time.
type journalCollector struct {
	j   Journal
	now func() time.Time
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

func (c *journalCollector) Collect(ch chan<- prometheus.Metric) {
	if st, err := c.j.Stats(); err != nil {
		err = fmt.Errorf("journal stats: %w", err)
		ch <- prometheus.NewInvalidMetric(descEvents, err)
		ch <- prometheus.NewInvalidMetric(descBytes, err)
	} else {
		ch <- prometheus.MustNewConstMetric(descEvents, prometheus.GaugeValue, float64(st.Events))
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(st.Bytes))
	}
	pending, err := c.j.Reports(journal.ReportFilter{State: journal.ReportPending})
	if err != nil {
		err = fmt.Errorf("journal reports: %w", err)
		ch <- prometheus.NewInvalidMetric(descPend, err)
		ch <- prometheus.NewInvalidMetric(descOldest, err)
		return
	}
	var oldest time.Duration
	now := c.now()
	for _, r := range pending {
		if age := now.Sub(r.Created); age > oldest {
			oldest = age
		}
	}
	ch <- prometheus.MustNewConstMetric(descPend, prometheus.GaugeValue, float64(len(pending)))
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, oldest.Seconds())
}
