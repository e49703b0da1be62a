package agent

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/httpapi"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/report"
	"github.com/vipagent/vipagent/reactions"
)

// finalDrain bounds the last delivery attempt at shutdown: the results of
// the events that finished while stopping (often the failover that made
// people stop this node) go out now if their targets answer quickly;
// otherwise they wait in the journal for the next start.
const finalDrain = 2 * time.Second

// openReporting wires the report outbox: the journal's outbox policy, the
// delivery job and the /v1/reports routes.
func (m *Main) openReporting() error {
	ob := report.New(m.Journal, m.Config, m.Logger)
	m.outbox = ob
	policy := report.Policy(m.Config)
	// The journal calls the policy inside Finish, just before committing the
	// reports with the result: announcing them wakes the delivery loop,
	// which waits for the commit and sends them at once.
	m.Journal.SetOutbox(func(ev *reactions.Event) []journal.Report {
		rs := policy(ev)
		if len(rs) > 0 {
			ids := make([]string, len(rs))
			for i, r := range rs {
				ids[i] = r.ID
			}
			ob.Notify(ids...)
		}
		return rs
	})

	var (
		cancel context.CancelFunc
		done   chan struct{}
	)
	log := m.Logger.With().Str("component", "report").Logger()
	m.jobs = append(m.jobs, job{
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
					log.Warn().Msg("reports still pending at shutdown; they are sent at the next start")
					return nil
				}
				return err
			}
			return nil
		},
	})

	m.routes = append(m.routes,
		httpapi.Route{Method: http.MethodGet, Pattern: "/reports", Role: config.RoleRead, Handler: func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			limit := 100
			if v := q.Get("limit"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 1000 {
					httpapi.WriteError(w, r, log, reactions.Invalid("limit: must be a number from 1 to 1000"))
					return
				}
				limit = n
			}
			views, err := ob.List(q.Get("state"), limit)
			if err != nil {
				httpapi.WriteError(w, r, log, err)
				return
			}
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{"reports": views})
		}},
		httpapi.Route{Method: http.MethodPost, Pattern: "/reports/{id}/retry", Role: config.RoleAdmin, Handler: func(w http.ResponseWriter, r *http.Request) {
			rep, err := ob.Retry(chi.URLParam(r, "id"))
			if err != nil {
				httpapi.WriteError(w, r, log, err)
				return
			}
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{"report": report.ViewOf(rep)})
		}},
	)
	return nil
}
