package agent

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/vipagent/vipagent/agent/reconcile"
	"github.com/vipagent/vipagent/agent/schedule"
	"github.com/vipagent/vipagent/reactions"
)

// job is a background part of the agent that runs while it serves.
type job struct {
	name  string
	start func(ctx context.Context) error
	// stop returns once the job has stopped.
	stop func(ctx context.Context) error
}

// finalDrain bounds the last delivery attempt at shutdown: the results of
// the events that finished while stopping (often the failover that made
// people stop this node) go out now if their targets answer quickly;
// otherwise they wait in the journal for the next start.
const finalDrain = 2 * time.Second

// reportDelivery runs the outbox: reports go out the moment their result
// commits, and are retried until delivered.
func (m *Main) reportDelivery() job {
	var (
		cancel context.CancelFunc
		done   chan struct{}
	)
	ob := m.outbox
	return job{
		name: "report delivery",
		start: func(ctx context.Context) error {
			var rctx context.Context
			rctx, cancel = context.WithCancel(ctx)
			done = make(chan struct{})
			go func() {
				defer close(done)
				ob.Run(rctx)
			}()
			return nil
		},
		stop: func(ctx context.Context) error {
			defer ob.Close()
			if done == nil {
				// Never started (in-process CLI runs): reports stay in the
				// journal for the agent to send.
				return nil
			}
			cancel()
			<-done
			done = nil
			dctx, dcancel := context.WithTimeout(ctx, finalDrain)
			defer dcancel()
			if _, err := ob.Drain(dctx); err != nil {
				if dctx.Err() != nil {
					m.Logger.Warn().Str("component", "report").Msg("reports still pending at shutdown; they are sent at the next start")
					return nil
				}
				return err
			}
			return nil
		},
	}
}

// newScheduler builds the periodic jobs: reconcile, outbox drain (a
// backstop behind the delivery loop; drains never overlap), prune, and the
// looks at the local VIPs and the peers that keep /metrics fresh.
func (m *Main) newScheduler() (job, error) {
	s, j := m.Config.Schedules, m.Journal
	rec := m.newReconciler()
	sched, err := schedule.New(m.Logger,
		schedule.Job{Name: "reconcile", Spec: s.Reconcile, Run: func(ctx context.Context) error {
			start := time.Now()
			_, err := rec.Run(ctx)
			m.pair.ReconcileRan(start, err)
			return err
		}},
		schedule.Job{Name: "observe", Spec: s.Observe, Run: m.observeVIPs},
		schedule.Job{Name: "probe_peers", Spec: s.ProbePeers, Run: m.probePeers},
		schedule.Job{Name: "prune", Spec: s.Prune, Run: func(ctx context.Context) error {
			n, err := j.Prune(s.PruneAge.D(), s.PruneKeep)
			if n > 0 {
				m.Logger.Info().Str("component", "scheduler").Int("events", n).Msg("pruned old events from the journal")
			}
			return errors.Join(err, j.PruneSignatures())
		}},
		schedule.Job{Name: "drain_outbox", Spec: s.DrainOutbox, Run: func(ctx context.Context) error {
			_, err := m.outbox.Drain(ctx)
			return err
		}},
	)
	if err != nil {
		return job{}, err
	}
	return job{
		name:  "scheduler",
		start: func(ctx context.Context) error { sched.Start(ctx); return nil },
		stop:  sched.Stop,
	}, nil
}

// newReconciler compares what each node observes of its VIPs and journals
// drift through the engine, like any other event.
func (m *Main) newReconciler() *reconcile.Reconciler {
	vips := map[string]reconcile.VIP{}
	for name, v := range m.Config.VIPs {
		vips[name] = reconcile.VIP{Owner: v.Owner, AutoFix: v.Repairs()}
	}
	return reconcile.New(reconcile.Config{
		Node:  m.Config.Node,
		Nodes: slices.Sorted(maps.Keys(m.Config.Nodes)),
		VIPs:  vips,
		Local: func(ctx context.Context, vip string) (reactions.VIPState, error) {
			st, _, err := m.Engine.Observe(ctx, vip)
			return st, err
		},
		Peers:       watchedPeers{m.peers, m.pair},
		LastActions: m.Journal.LastActions,
		LastIntents: m.Journal.LastIntents,
		Moves:       m.Engine.Moves,
		Submit:      m.Engine.Submit,
		Now:         m.Engine.Stamp,
		OnDrift:     func(k reconcile.Kind) { m.metrics.Drift(string(k)) },
		Status: func(id string) (reactions.Status, error) {
			ev, err := m.Journal.Get(id)
			if err != nil {
				return "", err
			}
			return ev.Status, nil
		},
		Logger: m.Logger,
	})
}
