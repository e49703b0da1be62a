package httpapi

import (
	"net/http"
	"runtime/debug"
	"sync"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/identity"
	"github.com/vipagent/vipagent/reactions"
)

// identityHandler answers the identity challenge (package identity): open,
// since a command asks it before it sends any credential, and cheap, since
// anyone may ask. The config's digest is computed once per config.
func (s *server) identityHandler() http.HandlerFunc {
	var (
		mu     sync.Mutex
		of     *config.Config
		digest string
	)
	version := buildVersion()
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		nonce := q.Get("nonce")
		if len(q) != 1 || len(q["nonce"]) != 1 || !identity.ValidNonce(nonce) {
			s.writeError(w, r, reactions.Invalid("nonce: give exactly one query parameter nonce, %d to 128 lowercase hex digits", 2*identity.NonceLen))
			return
		}
		cfg := s.Config
		mu.Lock()
		if of != cfg {
			of, digest = cfg, config.Digest(cfg)
		}
		d := digest
		mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, identity.Of(cfg, d, nonce, version))
	}
}

// buildVersion is the module version the binary was built as, for people
// reading the answer; nothing compares it.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
}
