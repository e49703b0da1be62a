package httpapi

import (
	"context"
	"net/http"

	"github.com/vipagent/vipagent/agent/api"
)

func (s *server) handlePair(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Pair(r.Context()))
}

// PairFunc answers GET /v1/pair; every call it makes to a peer is bounded.
type PairFunc func(ctx context.Context) api.PairView
