package agent

import (
	"context"
	"fmt"

	"github.com/vipagent/vipagent/agent/alertmanager"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/httpapi"
	"github.com/vipagent/vipagent/agent/metrics"
	"github.com/vipagent/vipagent/agent/reconcile"
	"github.com/vipagent/vipagent/agent/schedule"
	"github.com/vipagent/vipagent/reactions"
)

// openMonitoring wires metrics, the Alertmanager receiver and the scheduled
// jobs (reconcile, outbox drain, prune). It runs before the engine and the
// peers exist, so what needs them reads them when it runs.
func (m *Main) openMonitoring() error {
	met := metrics.New(m.Journal, m.Logger)
	m.metrics, m.observer = met.Handler(), met
	m.outbox.OnDelivery(met.Delivery)
	m.routes = append(m.routes, alertmanager.Route(m.alertmanagerIntake, alertmanager.OptionsFrom(m.Config, m.Logger)))

	s, j := m.Config.Schedules, m.Journal
	// The report delivery loop (reporting.go) already sends reports as
	// they are produced and retries them when due; schedules.drain_outbox
	// is the backstop on top of it. Drains never overlap (the outbox
	// serialises them), so a report is never posted twice at once.
	var drainOutbox func(ctx context.Context) error
	if ob := m.outbox; ob != nil {
		drainOutbox = func(ctx context.Context) error {
			_, err := ob.Drain(ctx)
			return err
		}
	}
	var rec *reconcile.Reconciler
	jobs := []schedule.Job{
		{Name: "reconcile", Spec: s.Reconcile, Run: func(ctx context.Context) error {
			_, err := rec.Run(ctx)
			return err
		}},
		{Name: "prune", Spec: s.Prune, Run: func(ctx context.Context) error {
			n, err := j.Prune(s.PruneAge.D(), s.PruneKeep)
			if err != nil {
				return err
			}
			if n > 0 {
				m.Logger.Info().Str("component", "scheduler").Int("events", n).Msg("pruned old events from the journal")
			}
			return nil
		}},
		{Name: "drain_outbox", Spec: s.DrainOutbox, Run: drainOutbox},
	}
	sched, err := schedule.New(m.Logger, jobs...)
	if err != nil {
		return fmt.Errorf("schedules: %w", err)
	}
	m.jobs = append(m.jobs, job{
		name: "scheduler",
		start: func(ctx context.Context) error {
			rec = m.newReconciler(met)
			sched.Start(ctx)
			return nil
		},
		stop: sched.Stop,
	})
	return nil
}

// alertmanagerIntake is the Alertmanager receiver's door to the engine: the
// API's own intake, reading the engine once it exists.
func (m *Main) alertmanagerIntake(a reactions.Alarm, src reactions.Source, args map[string]string) (*reactions.Event, bool, error) {
	return httpapi.Intake(m.Config, m.Engine, m.draining.Load(), a, src, args)
}

// newReconciler builds the reconcile job's reconciler; call it once the
// engine and the peers exist.
func (m *Main) newReconciler(met *metrics.Metrics) *reconcile.Reconciler {
	vips := map[string]reconcile.VIP{}
	for name, v := range m.Config.VIPs {
		vips[name] = reconcile.VIP{Owner: v.Owner, AutoFix: v.AutoFix}
	}
	return reconcile.New(reconcile.Config{
		Node:  m.Config.Node,
		Nodes: config.SortedKeys(m.Config.Nodes),
		VIPs:  vips,
		Local: func(ctx context.Context, vip string) (reactions.VIPState, error) {
			st, _, err := m.Engine.Observe(ctx, vip)
			return st, err
		},
		Peers:       m.peers,
		LastActions: m.Journal.LastActions,
		Submit: func(ev *reactions.Event) (*reactions.Event, bool, error) {
			if m.draining.Load() {
				return nil, false, fmt.Errorf("%w: agent is shutting down", reactions.ErrUnavailable)
			}
			return m.Engine.Submit(ev)
		},
		OnDrift: func(k reconcile.Kind) { met.Drift(string(k)) },
		Logger:  m.Logger,
	})
}
