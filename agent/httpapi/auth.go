package httpapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/sign"
	"github.com/vipagent/vipagent/reactions"
)

type ctxKey int

const roleKey ctxKey = 1

// Signature headers of signed webhooks (and of the reports we send).
const (
	HeaderTimestamp = sign.HeaderTimestamp
	HeaderSignature = sign.HeaderSignature
)

// authenticate finds the caller's role: a bearer token, or a signed
// webhook (role trigger). With no tokens and no webhook secret configured,
// every caller is admin: that is only allowed on loopback (see agent).
func (s *server) authenticate(next http.Handler) http.Handler {
	open := len(s.Config.Auth.Tokens) == 0 && !s.Config.Auth.WebhookSecret.IsSet()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if open {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), roleKey, config.RoleAdmin)))
			return
		}
		if h := r.Header.Get("Authorization"); h != "" {
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				s.writeError(w, r, fmt.Errorf("%w: Authorization must be \"Bearer <token>\"", errUnauthorized))
				return
			}
			role, name := s.roleOf(tok)
			if tok == "" || role == "" {
				s.writeError(w, r, fmt.Errorf("%w: unknown token", errUnauthorized))
				return
			}
			s.log.Debug().Str("token", name).Str("path", r.URL.Path).Msg("authenticated")
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), roleKey, role)))
			return
		}
		if r.Header.Get(HeaderSignature) != "" && s.Config.Auth.WebhookSecret.IsSet() {
			if err := s.verifySigned(w, r); err != nil {
				s.writeError(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), roleKey, config.RoleTrigger)))
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="vipagent"`)
		s.writeError(w, r, fmt.Errorf("%w: a bearer token or a signed request is required", errUnauthorized))
	})
}

// roleOf compares the token with every configured one in constant time.
func (s *server) roleOf(tok string) (role, name string) {
	for _, t := range s.Config.Auth.Tokens {
		if subtle.ConstantTimeCompare([]byte(tok), []byte(t.Token.Value())) == 1 {
			role, name = t.Role, t.Name
		}
	}
	return role, name
}

// require lets a request through when its role includes want.
func (s *server) require(want string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			role, _ := r.Context().Value(roleKey).(string)
			if !RoleAllows(role, want) {
				s.writeError(w, r, fmt.Errorf("%w: role %q may not do this (needs %s)", errForbidden, role, want))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RoleAllows reports whether role may do what want needs: admin may do
// everything; read and trigger only their own.
func RoleAllows(role, want string) bool {
	return role == config.RoleAdmin || role == want
}

// verifySigned checks X-Vipagent-Timestamp/Signature over the body, within
// the clock-skew window, and refuses a signature seen before.
func (s *server) verifySigned(w http.ResponseWriter, r *http.Request) error {
	ts := r.Header.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s must be Unix seconds", errUnauthorized, HeaderTimestamp)
	}
	skew := s.Config.Auth.MaxSkew.D()
	age := time.Since(time.Unix(sec, 0))
	if age > skew || age < -skew {
		return fmt.Errorf("%w: stale or future timestamp (allowed skew %s)", errUnauthorized, skew)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.Config.Limits.MaxBodyBytes))
	if err != nil {
		return fmt.Errorf("%w: body larger than %d bytes", errTooLarge, s.Config.Limits.MaxBodyBytes)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	want := sign.Sign([]byte(s.Config.Auth.WebhookSecret.Value()), ts, body)
	got := r.Header.Get(HeaderSignature)
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return fmt.Errorf("%w: bad signature", errUnauthorized)
	}
	if !s.seen.add(got, time.Unix(sec, 0).Add(skew)) {
		return fmt.Errorf("%w: this signature was already used (replayed request)", errUnauthorized)
	}
	return nil
}

// seenSigs remembers signatures until their timestamp leaves the window.
type seenSigs struct {
	mu   sync.Mutex
	sigs map[string]time.Time
}

func (s *seenSigs) add(sig string, until time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.sigs == nil {
		s.sigs = map[string]time.Time{}
	}
	for k, exp := range s.sigs {
		if now.After(exp) {
			delete(s.sigs, k)
		}
	}
	if _, ok := s.sigs[sig]; ok {
		return false
	}
	s.sigs[sig] = until
	return true
}

// limitInFlight answers 503 + Retry-After beyond the configured number of
// requests being served at once.
func (s *server) limitInFlight(next http.Handler) http.Handler {
	sem := make(chan struct{}, s.Config.Limits.MaxInFlight)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
			next.ServeHTTP(w, r)
		default:
			s.writeError(w, r, fmt.Errorf("%w: too many requests in flight", reactions.ErrUnavailable))
		}
	})
}
