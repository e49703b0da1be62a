package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/vipagent/vipagent/agent/report"
)

func (s *server) handleRetryReport(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Reports.Retry(chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"report": report.ViewOf(rep)})
}
