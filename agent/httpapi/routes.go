package httpapi

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/identity"
)

// RoleOpen marks the routes that need no credential: liveness and readiness.
const RoleOpen = "open"

// Route is one endpoint of the API: its method and pattern, the role it
// needs and the query parameters it takes. Every route is registered from
// routeTable, so none can exist without a role, and the auth tests walk the
// router against Routes.
type Route struct {
	Method, Pattern string
	// Role is config.RoleRead, RoleTrigger, RoleAdmin or RoleOpen.
	Role string
	// Query lists the query parameters the route takes; any other, or one
	// given twice, is a 400.
	Query []string
	// AnyQuery routes (probes, scrapers) ignore their query instead.
	AnyQuery bool
	handler  http.HandlerFunc
}

// routeTable is every route of the API, each with the role it needs.
func (s *server) routeTable() []Route {
	get, post := http.MethodGet, http.MethodPost
	rs := []Route{
		{Method: get, Pattern: "/healthz", Role: RoleOpen, AnyQuery: true, handler: s.handleHealthz},
		{Method: get, Pattern: "/readyz", Role: RoleOpen, AnyQuery: true, handler: s.handleReadyz},
		{Method: get, Pattern: identity.Path, Role: RoleOpen, Query: []string{"nonce"}, handler: s.identityHandler()},
		{Method: post, Pattern: "/v1/alarms", Role: config.RoleTrigger, Query: []string{"wait", "source", "deadline"}, handler: s.handlePostAlarm},
		{Method: get, Pattern: "/v1/events", Role: config.RoleRead, Query: []string{"status", "limit", "cursor"}, handler: s.handleListEvents},
		{Method: get, Pattern: "/v1/events/{id}", Role: config.RoleRead, handler: s.handleGetEvent},
		// Trigger at the door; the handler asks for admin when the event
		// replayed needed it (reactions.Event.NeedsAdmin).
		{Method: post, Pattern: "/v1/events/{id}/replay", Role: config.RoleTrigger, Query: []string{"wait", "dry_run", "deadline"}, handler: s.handleReplay},
		{Method: get, Pattern: "/v1/vips", Role: config.RoleRead, handler: s.handleListVIPs},
		{Method: get, Pattern: "/v1/vips/{name}", Role: config.RoleRead, handler: s.handleGetVIP},
		{Method: post, Pattern: "/v1/vips/{name}/{action:enable|disable}", Role: config.RoleAdmin, Query: []string{"wait", "deadline"}, handler: s.handleVIPAction},
		{Method: post, Pattern: "/v1/failover", Role: config.RoleTrigger, Query: []string{"wait", "deadline"}, handler: s.handleFailover},
		{Method: post, Pattern: "/v1/alertmanager", Role: config.RoleTrigger, Query: []string{"deadline"}, handler: s.handleAlertmanager},
	}
	if s.Metrics != nil {
		rs = append(rs, Route{Method: get, Pattern: "/metrics", Role: config.RoleRead, AnyQuery: true, handler: s.Metrics.ServeHTTP})
	}
	if s.Pair != nil {
		rs = append(rs, Route{Method: get, Pattern: "/v1/pair", Role: config.RoleRead, handler: s.handlePair})
	}
	if s.Reports != nil {
		rs = append(rs,
			Route{Method: get, Pattern: "/v1/reports", Role: config.RoleRead, Query: []string{"state", "limit", "cursor"}, handler: s.handleListReports},
			Route{Method: post, Pattern: "/v1/reports/{id}/retry", Role: config.RoleAdmin, handler: s.handleRetryReport})
	}
	return rs
}

// routes registers routeTable: the open routes as they are, the others
// behind the rate limit, authentication, their role and their query check.
func (s *server) routes() *chi.Mux {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Use(s.boundWrites)
	for _, rt := range s.table {
		switch {
		case rt.Role == RoleOpen && rt.Pattern == identity.Path:
			r.With(s.identityAsker).Method(rt.Method, rt.Pattern, rt.handler)
		case rt.Role == RoleOpen:
			r.With(s.strangers).Method(rt.Method, rt.Pattern, rt.handler)
		}
	}
	r.Group(func(r chi.Router) {
		// Budgets and rate limits are applied by authenticate, once it
		// knows whether the caller is trusted (admit.go).
		r.Use(s.authenticate)
		for _, rt := range s.table {
			if rt.Role != RoleOpen {
				mw := chi.Middlewares{s.require(rt.Role), s.checkQuery(rt)}
				if rt.Method == http.MethodGet && listRoutes[rt.Pattern] {
					mw = append(mw, s.lists)
				}
				r.With(mw...).Method(rt.Method, rt.Pattern, rt.handler)
			}
		}
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
