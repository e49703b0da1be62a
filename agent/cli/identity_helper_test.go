package cli

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/identity"
)

// answerIdentity answers the identity challenge as the agent running the
// config at path would.
func answerIdentity(t testing.TB, w http.ResponseWriter, r *http.Request, path string) {
	cfg, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Errorf("load %s: %v", path, err)
		http.Error(w, "bad config", http.StatusInternalServerError)
		return
	}
	json.NewEncoder(w).Encode(identity.Of(cfg, config.Digest(cfg), r.URL.Query().Get("nonce"), "test"))
}
