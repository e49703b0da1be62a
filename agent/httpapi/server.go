// Package httpapi is vipagent's HTTP API: alarms in, events and results
// out, VIP status and manual actions, replay, health and readiness. Every
// route is in routes.go; error kinds map to status codes in writeError.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/journal/forensic"
	"github.com/vipagent/vipagent/agent/report"
	"github.com/vipagent/vipagent/agent/strictjson"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/rules"
)

// Deps are what the API is built from.
type Deps struct {
	Config  *config.Config
	Engine  *engine.Engine
	Journal *journal.Journal
	Logger  zerolog.Logger
	// Metrics serves /metrics; nil leaves the route out.
	Metrics http.Handler
	// Reports serves /v1/reports; nil leaves those routes out.
	Reports Reports
	// Recovery, when set, is shown by /readyz: the journal was found
	// damaged at start and recovered.
	Recovery *forensic.Recovery
	// Pair serves /v1/pair; nil leaves the route out.
	Pair PairFunc
	// Failover maps RM's failoverscript calls (POST /v1/failover) to the
	// configured VIPs and nodes.
	Failover rules.Failover
}

// Reports is the report outbox as the API sees it.
type Reports interface {
	Page(state string, limit int, cursor string) ([]report.View, string, error)
	Retry(id string) (journal.Report, error)
}

type server struct {
	Deps
	log   zerolog.Logger
	table []Route
	admit *admission
}

// Server is the API's handler.
type Server struct {
	mux    *chi.Mux
	routes []Route
}

// NewServer returns the API's handler.
func NewServer(d Deps) *Server {
	s := &server{Deps: d, log: d.Logger.With().Str("component", "http").Logger(), admit: newAdmission(d.Config.Limits)}
	s.table = s.routeTable()
	return &Server{mux: s.routes(), routes: s.table}
}

func (h *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Routes is every route the server registered, with its role and query
// parameters.
func (h *Server) Routes() []Route {
	out := make([]Route, len(h.routes))
	for i, rt := range h.routes {
		rt.handler = nil
		out[i] = rt
	}
	return out
}

// Router is the router itself, for walking what is really registered.
func (h *Server) Router() chi.Routes { return h.mux }

// maxWait bounds the wait query parameter.
const maxWait = 5 * time.Minute

func waitParam(r *http.Request, def time.Duration) (time.Duration, error) {
	v := r.URL.Query().Get("wait")
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		// Plain numbers are seconds.
		n, nerr := strconv.Atoi(v)
		if nerr != nil {
			return 0, reactions.Invalid("wait: %q is not a duration such as 10s", v)
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 || d > maxWait {
		return 0, reactions.Invalid("wait: must be between 0s and %s", maxWait)
	}
	return d, nil
}

// decodeJSON decodes exactly one JSON object with no unknown fields. An
// empty body is allowed only when allowEmpty is set.
func (s *server) decodeJSON(w http.ResponseWriter, r *http.Request, dst any, allowEmpty bool) error {
	if r.ContentLength == 0 && allowEmpty {
		return nil
	}
	data, err := ReadJSON(w, r, s.Config.Limits.MaxBodyBytes)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		if allowEmpty {
			return nil
		}
		return reactions.Invalid("empty body: a JSON object is required")
	}
	return strictjson.Decode(data, dst)
}

// ReadJSON reads a request body that must be JSON and at most limit bytes;
// the errors map to 415 and 413 in WriteError.
func ReadJSON(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if err := singleHeaders(r.Header, "Content-Type"); err != nil {
		return nil, err
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, fmt.Errorf("%w: Content-Type must be application/json", errUnsupportedMedia)
	}
	// JSON is UTF-8 (RFC 8259); a body declared otherwise would be read
	// differently by whoever honours the charset.
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, fmt.Errorf("%w: Content-Type charset %q: JSON must be utf-8", errUnsupportedMedia, cs)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: body larger than %d bytes", errTooLarge, mbe.Limit)
		}
		return nil, reactions.Invalid("read body: %v", err)
	}
	return data, nil
}

// noBody refuses a request body on an endpoint that takes none.
func noBody(w http.ResponseWriter, r *http.Request) error {
	b, err := io.ReadAll(io.LimitReader(http.MaxBytesReader(w, r.Body, 1<<10), 1))
	if err != nil {
		return reactions.Invalid("read body: %v", err)
	}
	if len(b) > 0 {
		return reactions.Invalid("body: this endpoint takes none (a replay runs the original's plan; nothing can be added to it)")
	}
	return nil
}

var (
	errUnsupportedMedia = errors.New("unsupported media type")
	errTooLarge         = errors.New("request body too large")
	errUnauthorized     = errors.New("unauthorized")
	errForbidden        = errors.New("forbidden")
	errTooMany          = errors.New("too many requests")
)

// statusOf maps error kinds to HTTP status codes: the one place that does.
func statusOf(err error) int {
	switch {
	case errors.Is(err, reactions.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, errForbidden):
		return http.StatusForbidden
	case errors.Is(err, reactions.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, reactions.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errUnsupportedMedia):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, errTooMany):
		return http.StatusTooManyRequests
	case errors.Is(err, reactions.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// StatusForResult is the HTTP status of a finished event: the status line
// says what happened, as the CLI's exit code does.
func StatusForResult(st reactions.Status) int {
	switch st {
	case reactions.StatusSucceeded:
		return http.StatusOK
	case reactions.StatusUnmatched:
		return http.StatusUnprocessableEntity
	case reactions.StatusFailed:
		return http.StatusBadGateway
	case reactions.StatusTimeout:
		return http.StatusGatewayTimeout
	case reactions.StatusSuperseded:
		return http.StatusConflict
	case reactions.StatusExpired:
		return http.StatusGone
	}
	return http.StatusAccepted
}

func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, s.log, err)
}

// WriteError answers err as JSON {"error", "status"} with the status its
// kind maps to; internal errors are logged and not shown. Routes added by
// other packages use it too, so the mapping stays in one place.
func WriteError(w http.ResponseWriter, r *http.Request, log zerolog.Logger, err error) {
	code := statusOf(err)
	msg := err.Error()
	if code == http.StatusInternalServerError {
		// Internals go to the log, not to the caller.
		log.Error().Err(err).Str("path", r.URL.Path).Msg("internal error")
		msg = "internal error; see the agent's log"
	} else {
		log.Info().Int("status", code).Str("path", r.URL.Path).Str("error", msg).Msg("request refused")
	}
	if (code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, code, map[string]any{"error": msg, "status": code})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// respondEvent waits up to wait for ev to finish and writes its result, or
// 202 with a link when it is still running.
func (s *server) respondEvent(w http.ResponseWriter, r *http.Request, ev *reactions.Event, dup bool, wait time.Duration) {
	if !ev.Status.Final() && wait > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		got, err := s.Engine.Wait(ctx, ev.ID)
		cancel()
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		ev = got
	}
	loc := "/v1/events/" + ev.ID
	w.Header().Set("Location", loc)
	if !ev.Status.Final() || ev.Result == nil {
		writeJSON(w, http.StatusAccepted, map[string]any{
			"event_id": ev.ID, "status": ev.Status, "duplicate": dup, "location": loc,
		})
		return
	}
	res := *ev.Result
	res.Duplicate = dup
	writeJSON(w, StatusForResult(res.Status), res)
}
