package httpapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/localchan"
	"github.com/vipagent/vipagent/agent/sign"
	"github.com/vipagent/vipagent/reactions"
)

type ctxKey int

const callerKey ctxKey = 1

// Caller is who a request was authenticated as: the role it may act with
// and the credential that proved it. ID names the credential without
// revealing it ("token:<name>", "webhook", "open", "local:uid=<n>"); idempotency keys and
// rate limits are scoped by it.
type Caller struct {
	Role string
	ID   string
}

// withCaller is r carrying the caller that authenticate found.
func withCaller(r *http.Request, c Caller) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), callerKey, c))
}

// CallerOf is the caller authenticate stored on r's context; the zero
// Caller (no role) when the request was not authenticated.
func CallerOf(r *http.Request) Caller {
	c, _ := r.Context().Value(callerKey).(Caller)
	return c
}

// Signature headers of signed webhooks (and of the reports we send).
const (
	HeaderTimestamp = sign.HeaderTimestamp
	HeaderSignature = sign.HeaderSignature
)

// authenticate finds the caller's role: a bearer token, or a signed
// webhook (role trigger). With no tokens and no webhook secret configured,
// every caller is admin: that is only allowed on loopback (see agent). A
// caller already on the context (set by an in-process listener such as the
// local channel) is kept.
//
// Everything that can be refused from the headers is refused before the
// body is read; a signed request is a stranger (its budget, a short body
// deadline) until its signature verifies, and only then takes a trusted
// slot. Failed authentications count against the client's address, never
// against a credential, so guessing cannot lock out the trusted.
func (s *server) authenticate(next http.Handler) http.Handler {
	open := len(s.Config.Auth.Tokens) == 0 && !s.Config.Auth.WebhookSecret.IsSet()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := CallerOf(r); c.Role != "" {
			s.serveTrusted(w, r, c, next)
			return
		}
		if err := singleHeaders(r.Header, "Authorization", HeaderSignature, HeaderTimestamp); err != nil {
			s.refuse(w, r, err)
			return
		}
		if peer, ok := localchan.PeerOf(r.Context()); ok && r.Header.Get("Authorization") == "" && r.Header.Get(HeaderSignature) == "" {
			// The kernel named the caller: its account is the credential.
			role, err := localchan.Authorize(peer, s.Config.Local)
			if err != nil {
				s.turnAway(w, r, fmt.Errorf("%w: local channel: %w", errForbidden, err))
				return
			}
			s.serveTrusted(w, r, Caller{Role: role, ID: peer.ID()}, next)
			return
		}
		if open {
			s.serveTrusted(w, r, Caller{Role: config.RoleAdmin, ID: "open"}, next)
			return
		}
		if h := r.Header.Get("Authorization"); h != "" {
			// RFC 9110: the scheme is case-insensitive.
			scheme, tok, _ := strings.Cut(h, " ")
			tok = strings.TrimLeft(tok, " ")
			if !strings.EqualFold(scheme, "Bearer") || tok == "" {
				s.refuse(w, r, fmt.Errorf("%w: Authorization must be \"Bearer <token>\"", errUnauthorized))
				return
			}
			role, name := s.roleOf(tok)
			if role == "" {
				s.refuse(w, r, fmt.Errorf("%w: unknown token", errUnauthorized))
				return
			}
			s.log.Debug().Str("token", name).Str("path", r.URL.Path).Msg("authenticated")
			s.serveTrusted(w, r, Caller{Role: role, ID: "token:" + name}, next)
			return
		}
		if r.Header.Get(HeaderSignature) != "" && s.Config.Auth.WebhookSecret.IsSet() {
			if err := s.verifySigned(w, r); err != nil {
				if errors.Is(err, errUnauthorized) {
					s.refuse(w, r, err)
				} else {
					w.Header().Set("Connection", "close")
					s.writeError(w, r, err)
				}
				return
			}
			s.serveTrusted(w, r, Caller{Role: config.RoleTrigger, ID: "webhook"}, next)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="vipagent"`)
		s.refuse(w, r, fmt.Errorf("%w: a bearer token or a signed request is required", errUnauthorized))
	})
}

// singleHeaders refuses a request that gives one of the named headers more
// than once: the agent reads the first, a proxy or filter in front of it may
// read the last, and they must agree on who is asking.
func singleHeaders(h http.Header, names ...string) error {
	for _, name := range names {
		if n := len(h.Values(name)); n > 1 {
			return reactions.Invalid("%s: header given %d times; give it once", name, n)
		}
	}
	return nil
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
			if err := needRole(r, want, "do this"); err != nil {
				s.turnAway(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// needRole is errForbidden unless the request's role includes want.
func needRole(r *http.Request, want, what string) error {
	role := CallerOf(r).Role
	if !RoleAllows(role, want) {
		return fmt.Errorf("%w: role %q may not %s (needs %s)", errForbidden, role, what, want)
	}
	return nil
}

// RoleAllows reports whether role may do what want needs: admin may do
// everything; read and trigger only their own.
func RoleAllows(role, want string) bool {
	return role == config.RoleAdmin || role == want
}

// verifySigned checks X-Vipagent-Timestamp/Signature over the request's
// method, path, query and body, within the clock-skew window, and refuses a
// signature seen before: the journal remembers each one until its timestamp
// leaves the window, across restarts.
func (s *server) verifySigned(w http.ResponseWriter, r *http.Request) error {
	skew := s.Config.Auth.MaxSkew.D()
	sig := r.Header.Get(HeaderSignature)
	if err := sign.CheckHeaders(r.Header.Get(HeaderTimestamp), sig, time.Now(), skew); err != nil {
		return fmt.Errorf("%w: %w", errUnauthorized, err)
	}
	if s.failedTooOften(r) {
		return fmt.Errorf("%w: more than %d failed authentications a minute from this address", errTooMany, s.admit.rate)
	}
	release, err := s.admit.enterStranger(r)
	if err != nil {
		return err
	}
	defer release()
	// A body that is not yet trusted gets a short time to arrive; the
	// deadline is lifted once it has (the server's own read timeout stays).
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(strangerBodyTime))
	limit := s.Config.Limits.MaxBodyBytes
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("%w: body larger than %d bytes", errTooLarge, limit)
		}
		return reactions.Invalid("read body: %v (an unverified body must arrive within %s)", err, strangerBodyTime)
	}
	_ = rc.SetReadDeadline(time.Time{})
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	at, err := sign.Verify([]byte(s.Config.Auth.WebhookSecret.Value()), r.Header.Get(HeaderTimestamp), sig,
		r.Method, sign.Target(r.URL), body, time.Now(), skew)
	if err != nil {
		return fmt.Errorf("%w: %w", errUnauthorized, err)
	}
	fresh, err := s.Journal.RememberSignature(sig, at, at.Add(skew))
	if errors.Is(err, journal.ErrSignedBeforeRecovery) {
		return fmt.Errorf("%w: %w; sign it again with a new timestamp", errUnauthorized, err)
	}
	if err != nil {
		return fmt.Errorf("remember signature: %w", err)
	}
	if !fresh {
		return fmt.Errorf("%w: this signature was already used (replayed request)", errUnauthorized)
	}
	return nil
}

// checkQuery refuses query parameters the route does not take, and any
// given twice: a filter in front of the agent must see what the agent does.
func (s *server) checkQuery(rt Route) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if rt.AnyQuery {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := queryAllowed(r, rt.Query); err != nil {
				s.turnAway(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func queryAllowed(r *http.Request, allowed []string) error {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	for name, vs := range q {
		switch {
		case !slices.Contains(allowed, name):
			if len(allowed) == 0 {
				return reactions.Invalid("%s: unknown query parameter (this endpoint takes none)", name)
			}
			return reactions.Invalid("%s: unknown query parameter (this endpoint takes %s)", name, strings.Join(allowed, ", "))
		case len(vs) > 1:
			return reactions.Invalid("%s: given %d times; give it once", name, len(vs))
		}
	}
	return nil
}

// parseQuery is url.ParseQuery that refuses what it would skip silently
// (a ';' separator, bad escapes), so the handler sees the whole query.
func parseQuery(raw string) (map[string][]string, error) {
	q := map[string][]string{}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		if strings.Contains(part, ";") {
			return nil, reactions.Invalid("query: ';' is not a separator; use '&'")
		}
		k, v, _ := strings.Cut(part, "=")
		name, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err := errors.Join(err1, err2); err != nil {
			return nil, reactions.Invalid("query: %v", err)
		}
		q[name] = append(q[name], val)
	}
	return q, nil
}

// boolParam reads a boolean query parameter: absent is false; true, false,
// 1 and 0 are accepted, anything else (TRUE, yes, an empty value) is a 400.
func boolParam(r *http.Request, name string) (bool, error) {
	if !r.URL.Query().Has(name) {
		return false, nil
	}
	switch v := r.URL.Query().Get(name); v {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	default:
		return false, reactions.Invalid("%s: %q is not a boolean (true, false, 1 or 0)", name, v)
	}
}
