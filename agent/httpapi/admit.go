package httpapi

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/httprate"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions"
)

// What a stranger (a request not yet authenticated: open routes, signed
// requests until their body verifies) may hold. Strangers have a budget of
// their own, so a flood of them never takes a slot a trusted caller needs,
// and each address a share of it, so one address cannot take it all.
const (
	// strangerBodyTime bounds reading a signed body before it is verified:
	// a body sent a byte a second holds its slot for this long at most.
	strangerBodyTime = 2 * time.Second
	// minStrangers and strangerShare size the strangers' budget from
	// limits.max_in_flight: 1/16th of it, at least 8.
	minStrangers  = 8
	strangerShare = 16
	// perAddressShare is how much of each budget one address may hold: a
	// quarter of the strangers' (at least 2), a quarter of the trusted
	// (at least 4).
	perAddressShare = 4
	// maxListsInFlight bounds the list routes served at once: each holds
	// a page of the journal in memory until its answer is written (at most
	// write_timeout), so readers that never read cannot add up to the
	// agent's memory.
	maxListsInFlight = 4
)

// listRoutes are the routes whose answer is a page of the journal.
var listRoutes = map[string]bool{"/v1/events": true, "/v1/reports": true}

// admission holds the budgets and limits that decide whether a request is
// served: in-flight slots for the trusted and for strangers, a per-address
// cap on each, and the two rate limits (failed authentications per
// address, requests per credential).
type admission struct {
	trusted   chan struct{}
	strangers chan struct{}
	lists     chan struct{}
	// byAddr caps what one address holds of the strangers' budget,
	// trustedByAddr of the trusted one: one client, trusted or not,
	// never holds every slot (the local channel's callers, the host's
	// own, are not capped).
	byAddr        addrSlots
	trustedByAddr addrSlots
	// failures counts failed authentications per client address; nil when
	// limits.rate_per_minute is 0.
	failures *httprate.RateLimiter
	// callers counts authenticated requests per credential; nil when off.
	callers *httprate.RateLimiter
	rate    int
}

func newAdmission(l config.Limits) *admission {
	strangers := max(minStrangers, l.MaxInFlight/strangerShare)
	a := &admission{
		trusted:       make(chan struct{}, l.MaxInFlight),
		strangers:     make(chan struct{}, strangers),
		lists:         make(chan struct{}, maxListsInFlight),
		byAddr:        addrSlots{max: max(2, strangers/perAddressShare), held: map[string]int{}},
		trustedByAddr: addrSlots{max: max(4, l.MaxInFlight/perAddressShare), held: map[string]int{}},
		rate:          l.RatePerMinute,
	}
	if l.RatePerMinute > 0 {
		a.failures = httprate.NewRateLimiter(l.RatePerMinute, time.Minute)
		a.callers = httprate.NewRateLimiter(l.RatePerMinute, time.Minute)
	}
	return a
}

// addrSlots counts the requests each client address has in flight.
type addrSlots struct {
	mu   sync.Mutex
	max  int
	held map[string]int
}

func (s *addrSlots) acquire(addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[addr] >= s.max {
		return false
	}
	s.held[addr]++
	return true
}

func (s *addrSlots) release(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[addr]--; s.held[addr] <= 0 {
		delete(s.held, addr)
	}
}

// clientAddr is the address of the TCP peer: the only one a client cannot
// choose (headers such as X-Forwarded-For are the client's own words).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// enterStranger takes a stranger's slot for r, or says why it cannot. The
// returned func gives it back.
func (a *admission) enterStranger(r *http.Request) (release func(), err error) {
	addr := clientAddr(r)
	if !a.byAddr.acquire(addr) {
		return nil, fmt.Errorf("%w: too many unauthenticated requests in flight from this address", reactions.ErrUnavailable)
	}
	select {
	case a.strangers <- struct{}{}:
	default:
		a.byAddr.release(addr)
		return nil, fmt.Errorf("%w: too many unauthenticated requests in flight", reactions.ErrUnavailable)
	}
	return func() { <-a.strangers; a.byAddr.release(addr) }, nil
}

// strangers serves an open route within the strangers' budget, and closes
// the connection after it: an unauthenticated client keeps no idle
// connection open.
func (s *server) strangers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		release, err := s.admit.enterStranger(r)
		if err != nil {
			s.turnAway(w, r, err)
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}

// serveTrusted serves an authenticated request: within the rate of its
// credential, its address's share of the trusted in-flight budget and that
// budget. The local channel's callers are neither rate limited nor capped
// per address: they are the host's own operators and hooks.
func (s *server) serveTrusted(w http.ResponseWriter, r *http.Request, c Caller, next http.Handler) {
	r = withCaller(r, c)
	local := strings.HasPrefix(c.ID, "local:")
	if a := s.admit; a.callers != nil && !local && a.callers.OnLimit(w, r, c.ID) {
		s.turnAway(w, r, fmt.Errorf("%w: more than %d requests a minute with this credential (%s)", errTooMany, a.rate, c.ID))
		return
	}
	if !local {
		addr := clientAddr(r)
		if !s.admit.trustedByAddr.acquire(addr) {
			s.turnAway(w, r, fmt.Errorf("%w: too many requests in flight from this address (at most %d)", reactions.ErrUnavailable, s.admit.trustedByAddr.max))
			return
		}
		defer s.admit.trustedByAddr.release(addr)
	}
	select {
	case s.admit.trusted <- struct{}{}:
		defer func() { <-s.admit.trusted }()
		next.ServeHTTP(w, r)
	default:
		s.turnAway(w, r, fmt.Errorf("%w: too many requests in flight", reactions.ErrUnavailable))
	}
}

// turnAway answers a request refused before its body was read, and closes
// the connection after the answer: net/http would otherwise read what is
// left of the body before sending the answer, so a slow body would hold
// the refusal back as long as it holds a slot.
func (s *server) turnAway(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Connection", "close")
	s.writeError(w, r, err)
}

// refuse answers a failed authentication: 401 with err, or 429 once the
// address has failed more than limits.rate_per_minute times in a minute.
// Either way the connection is closed after the answer.
func (s *server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Connection", "close")
	if a := s.admit; a.failures != nil && a.failures.OnLimit(w, r, clientAddr(r)) {
		err = fmt.Errorf("%w: more than %d failed authentications a minute from this address", errTooMany, a.rate)
	}
	s.writeError(w, r, err)
}

// failedTooOften is whether the client's address is already past its
// failed-authentication limit; such a client's signed body is not read.
func (s *server) failedTooOften(r *http.Request) bool {
	if s.admit.failures == nil {
		return false
	}
	// Status's first result is whether the key is still within its limit.
	_, rate, err := s.admit.failures.Status(clientAddr(r))
	return err == nil && math.Round(rate) >= float64(s.admit.rate)
}

// lists serves a list route within the lists' budget.
func (s *server) lists(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.admit.lists <- struct{}{}:
			defer func() { <-s.admit.lists }()
			next.ServeHTTP(w, r)
		default:
			s.turnAway(w, r, fmt.Errorf("%w: too many lists being sent at once; ask again shortly", reactions.ErrUnavailable))
		}
	})
}
