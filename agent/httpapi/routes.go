package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"

	"github.com/vipagent/vipagent/agent/config"
)

// routes is every route of the API, each with the role it needs.
func (s *server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Use(s.limitInFlight)
	r.Get("/healthz", s.handleHealthz)
	r.Get("/readyz", s.handleReadyz)
	r.Group(func(r chi.Router) {
		if n := s.Config.Limits.RatePerMinute; n > 0 {
			// Per client address, before authentication, so that guessing
			// tokens is rate limited too.
			r.Use(httprate.Limit(n, time.Minute, httprate.WithKeyByIP(),
				httprate.WithLimitHandler(func(w http.ResponseWriter, req *http.Request) {
					s.writeError(w, req, fmt.Errorf("%w: more than %d requests a minute from this client", errTooMany, n))
				})))
		}
		r.Use(s.authenticate)
		if s.Metrics != nil {
			r.With(s.require(config.RoleRead)).Method(http.MethodGet, "/metrics", s.Metrics)
		}
		r.Route("/v1", func(r chi.Router) {
			r.With(s.require(config.RoleTrigger)).Post("/alarms", s.handlePostAlarm)
			r.With(s.require(config.RoleRead)).Get("/events", s.handleListEvents)
			r.With(s.require(config.RoleRead)).Get("/events/{id}", s.handleGetEvent)
			r.With(s.require(config.RoleTrigger)).Post("/events/{id}/replay", s.handleReplay)
			r.With(s.require(config.RoleRead)).Get("/vips", s.handleListVIPs)
			r.With(s.require(config.RoleRead)).Get("/vips/{name}", s.handleGetVIP)
			if s.Pair != nil {
				r.With(s.require(config.RoleRead)).Get("/pair", s.handlePair)
			}
			r.With(s.require(config.RoleAdmin)).Post("/vips/{name}/{action:enable|disable}", s.handleVIPAction)
			r.With(s.require(config.RoleTrigger)).Post("/failover", s.handleFailover)
			r.With(s.require(config.RoleTrigger)).Post("/alertmanager", s.handleAlertmanager)
			if s.Reports != nil {
				r.With(s.require(config.RoleRead)).Get("/reports", s.handleListReports)
				r.With(s.require(config.RoleAdmin)).Post("/reports/{id}/retry", s.handleRetryReport)
			}
		})
	})
	r.NotFound(func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no such endpoint: " + req.Method + " " + req.URL.Path, "status": 404})
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "method " + req.Method + " not allowed on " + req.URL.Path, "status": 405})
	})
	return r
}

// defaultWait is how long POST /v1/alarms waits for the result by default.
const defaultWait = 10 * time.Second
