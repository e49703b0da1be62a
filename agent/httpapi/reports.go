package httpapi

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/vipagent/vipagent/agent/report"
	"github.com/vipagent/vipagent/reactions"
)

func (s *server) handleListReports(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, reactions.Invalid("limit: must be a number from 1 to 1000"))
			return
		}
		limit = n
	}
	views, err := s.Reports.List(q.Get("state"), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reports": views})
}

func (s *server) handleRetryReport(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Reports.Retry(chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"report": report.ViewOf(rep)})
}
