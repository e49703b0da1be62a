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

// identityAsker admits the identity question: from the trusted budget when
// the asker proves it holds a secret of this config (identity.HeaderAsk:
// a command of this config about to send its request), else as a
// stranger. Strangers flooding the open route then cannot keep a hook
// from learning that its agent is its agent.
func (s *server) identityAsker(next http.Handler) http.Handler {
	strangers := s.strangers(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if identity.Asked(s.Config, r.URL.Query().Get("nonce"), r.Header.Get(identity.HeaderAsk)) {
			s.serveTrusted(w, r, Caller{Role: RoleOpen, ID: "identity-asker"}, next)
			return
		}
		strangers.ServeHTTP(w, r)
	})
}
