package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/localchan"
	"github.com/vipagent/vipagent/agent/sign"
)

// client talks to the local agent, or runs the same request in-process on
// the journal when no agent answers.
type client struct {
	env    Env
	c      common
	cfg    *config.Config
	base   string
	token  string
	direct *agent.Main
	// explicit is set when --agent or $VIPAGENT_AGENT named the agent.
	explicit bool
	// tokenErr says why no configured token could be used, if none could.
	tokenErr error
	// oneOff is set when an in-process run uses its one-off token.
	oneOff bool
	// wait is the command's --wait: how long the agent may take to
	// answer, before answerMargin.
	wait time.Duration
	// tls verifies an HTTPS agent (tls.ca) and presents the config's
	// certificate to it (tls.cert, for client_ca); nil without tls.*.
	tls *tls.Config
	// deadline is until when this command waits for the request it sends
	// (see do); the agent, or the in-process run, never starts the
	// request after it.
	deadline time.Time
	// local is the local channel's socket when this command uses it.
	local string
	// verified is set once the agent proved it runs this config.
	verified bool
	// signKey signs requests when no token can be used and the config's
	// webhook secret can: a webhook-only auth still serves the hooks.
	signKey string
	// accepted is the event the agent said (103) it journaled the
	// request as.
	accepted string
}

// newClient is the client of one command; wait is its --wait (0 for
// commands without one); roles are the roles whose configured tokens it may
// send, weakest first (see pickToken).
func newClient(c common, env Env, wait time.Duration, roles ...string) (*client, error) {
	cfg, err := loadConfig(c, env)
	if err != nil {
		return nil, err
	}
	cl := &client{env: env, c: c, cfg: cfg, base: c.agent, token: c.token, wait: wait}
	if cl.base == "" {
		cl.base = env.Getenv("VIPAGENT_AGENT")
	}
	// An agent named explicitly is the one wanted: no falling back to an
	// in-process run on whatever this config's journal is.
	cl.explicit = cl.base != ""
	if cl.base == "" {
		cl.base = agentURL(cfg)
	}
	if strings.HasPrefix(cl.base, "https://") {
		if cl.tls, err = clientTLS(cfg); err != nil {
			return nil, err
		}
	}
	if cl.token == "" {
		cl.token = env.Getenv("VIPAGENT_TOKEN")
	}
	if cl.token == "" {
		// A token that cannot be resolved matters only when the agent
		// asks for one; the in-process fallback needs none for what
		// the hooks do (see inProcessConfig).
		cl.token, cl.tokenErr = pickToken(cfg, roles)
	}
	if cl.token == "" && slices.Contains(roles, config.RoleTrigger) {
		if v, err := cfg.Auth.WebhookSecret.Resolve(); err == nil && v != "" {
			cl.signKey = v
		}
	}
	if err := cl.chooseLocal(); err != nil {
		return nil, err
	}
	return cl, nil
}

// clientTLS is the TLS configuration with which the CLI calls an HTTPS
// agent: the files are checked first, as serve does, so that a FIFO or a
// device named by tls.* is refused rather than read.
func clientTLS(cfg *config.Config) (*tls.Config, error) {
	if probs := agent.CheckTLS(cfg); len(probs) > 0 {
		return nil, &ExitError{Code: ExitUsage, Err: config.Problems(probs)}
	}
	c, err := agent.ClientTLS(cfg.TLS)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	return c, nil
}

func agentURL(cfg *config.Config) string {
	host, port, _ := net.SplitHostPort(cfg.Listen)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if cfg.TLS.Cert != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// pickToken uses the first configured token of roles, in that order, that
// resolves: the CLI runs on the agent's host with the agent's
// configuration, and sends the weakest token the command needs. Whatever
// answers at the agent's address gets it (with the agent down, any local
// user may listen there), so `fire` and the failover hook never hand out
// the admin token when a trigger one resolves. When none resolves, the
// error says which secret is missing and how to provide it.
func pickToken(cfg *config.Config, roles []string) (string, error) {
	var firstErr error
	for _, want := range roles {
		for _, t := range cfg.Auth.Tokens {
			if t.Role != want {
				continue
			}
			v, err := t.Token.Resolve()
			if err == nil && v != "" {
				return v, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return "", firstErr
}

// tokenRoles is what a command that reads, or changes (admin) when
// changes is set, may send.
func tokenRoles(changes bool) []string {
	if changes {
		return []string{config.RoleAdmin}
	}
	return []string{config.RoleRead, config.RoleAdmin}
}

// do sends one request. With --direct, or when nothing answers at the
// agent's address, the request is served in-process.
func (cl *client) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	cl.deadline = time.Now().Add(cl.bound())
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return 0, nil, err
		}
	}
	if !cl.c.direct && cl.direct == nil {
		code, resp, fallBack, err := cl.askAgent(ctx, method, path, data)
		if !fallBack {
			return code, resp, err
		}
	}
	if cl.direct == nil {
		code, resp, handed, err := cl.openDirect(ctx, method, path, data)
		if handed || err != nil {
			return code, resp, err
		}
	}
	hc := &http.Client{Transport: handlerTransport{cl.direct.Handler}}
	code, resp, _, err := cl.send(ctx, hc, "http://in-process", method, path, data)
	if err == nil && cl.oneOff && (code == http.StatusUnauthorized || code == http.StatusForbidden) {
		return 0, nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("running in-process, this needs a configured token and none can be used: %w", cl.tokenErr)}
	}
	return code, resp, err
}

// inProcessConfig is the config of an in-process run. When the command has
// no token (none given, and none of the configured ones resolves, as in
// RM's environment without LCA's variables), the in-process agent also
// accepts a one-off trigger token only this process knows: enough for the
// failover hook and alarm reactions, so that a dead agent never blocks a
// failover. It grants nothing new: this process already runs the backends
// itself, and reaches peers only with the peer tokens it can resolve. What
// needs admin still needs a configured token.
func (cl *client) inProcessConfig() *config.Config {
	open := len(cl.cfg.Auth.Tokens) == 0 && !cl.cfg.Auth.WebhookSecret.IsSet()
	if cl.token != "" || open {
		return cl.cfg
	}
	c := *cl.cfg
	cl.token, cl.oneOff = rand.Text(), true
	c.Auth.Tokens = append(slices.Clone(c.Auth.Tokens),
		config.Token{Name: "in-process", Role: config.RoleTrigger, Token: config.NewSecret(cl.token)})
	return &c
}

// announceRecovery tells about a journal this in-process agent found
// damaged and recovered, and journals the recovery as an event: the agent
// reports it when it runs again (a recovery made here is never seen by it).
func (cl *client) announceRecovery() {
	r := cl.direct.Recovery
	if r == nil {
		return
	}
	fmt.Fprintf(cl.env.Stderr, "vipagent: WARNING: the journal was damaged and has been recovered: %s\n", r)
	if err := cl.direct.AnnounceRecovery(); err != nil {
		fmt.Fprintf(cl.env.Stderr, "vipagent: WARNING: %v\n", err)
	}
}

// askAgent sends the request to the agent, once the agent proved it runs
// this command's config (verify): nothing, no credential included, goes to
// whatever else answers at its address. fallBack is set only when nothing
// took the connection, so that the agent cannot have seen the request and
// running it in-process cannot do it twice. Everything, the challenge and
// retries after Retry-After included, ends within bound.
func (cl *client) askAgent(ctx context.Context, method, path string, data []byte) (code int, resp []byte, fallBack bool, err error) {
	bound := cl.bound()
	rctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	until, _ := rctx.Deadline()
	hc := cl.agentHTTP()
	err = nil
	if !cl.verified {
		err = cl.verify(rctx, hc)
		var ee *ExitError
		if errors.As(err, &ee) {
			return 0, nil, false, err
		}
	}
	var h http.Header
	for err == nil {
		code, resp, h, err = cl.send(cl.trace(rctx), hc, cl.baseURL(), method, path, data)
		if err != nil {
			break
		}
		d, retry := retryDelay(code, h, time.Now(), until)
		if !retry {
			break
		}
		fmt.Fprintf(cl.env.Stderr, "vipagent: the agent at %s answered %d; trying again in %s, as it asked\n", cl.where(), code, d)
		select {
		case <-rctx.Done():
			err = rctx.Err()
		case <-time.After(d):
		}
	}
	var untrusted *localchan.UntrustedError
	switch {
	case errors.As(err, &untrusted):
		return 0, nil, false, exitf(ExitUsage, "local.socket %s cannot be trusted: %v; not using it", cl.local, untrusted)
	case err == nil:
		if code == http.StatusUnauthorized && cl.tokenErr != nil {
			return 0, nil, false, &ExitError{Code: ExitUsage, Err: fmt.Errorf("agent at %s wants a token and no configured one can be used: %w", cl.where(), cl.tokenErr)}
		}
		if why := notAgent(code, resp); why != "" {
			return 0, nil, false, exitf(ExitNoAgent, "%s answered, but not as a vipagent agent: %s; not running in-process, since something else holds the agent's address", cl.where(), why)
		}
		return code, resp, false, nil
	case noAnswer(err) && cl.local != "":
		// A socket left behind by an agent that is gone: its TCP address
		// is next, then in-process.
		fmt.Fprintf(cl.env.Stderr, "vipagent: no agent answered at %s (%v); trying %s\n", cl.local, rootCause(err), cl.base)
		cl.local = ""
		return cl.askAgent(ctx, method, path, data)
	case noAnswer(err):
		if cl.explicit {
			return 0, nil, false, exitf(ExitNoAgent, "no agent answered at %s (%v); not running in-process because the agent was named explicitly (use --direct for that)", cl.base, rootCause(err))
		}
		fmt.Fprintf(cl.env.Stderr, "vipagent: no agent answered at %s (%v); running in-process on %s\n", cl.base, rootCause(err), cl.cfg.DataDir)
		return 0, nil, true, nil
	case ctx.Err() != nil:
		return 0, nil, false, cl.gaveUp(fmt.Sprintf("this command was stopped (%v) before the agent at %s answered", ctx.Err(), cl.where()), until.Add(-deadlineSlack))
	case rctx.Err() != nil:
		// Connected, then silence: the agent is hung or stalled. Not
		// in-process: it may hold the journal, or be acting on this very
		// request.
		return 0, nil, false, cl.gaveUp(fmt.Sprintf("the agent at %s accepted the connection but did not answer within %s (--wait plus %s); not running in-process, since that agent may hold the journal", cl.where(), bound, answerMargin), until.Add(-deadlineSlack))
	}
	// Connected, then the connection failed (reset, closed, TLS, an
	// oversized answer): the agent may have seen the request.
	if cl.accepted != "" {
		return 0, nil, false, cl.gaveUp(fmt.Sprintf("the connection to the agent at %s failed: %v", cl.where(), rootCause(err)), until.Add(-deadlineSlack))
	}
	return 0, nil, false, exitf(ExitNoAgent, "agent at %s did not answer: %v; not running in-process, since that agent may be acting on this request", cl.where(), rootCause(err))
}

// openDirect opens the in-process agent on the config's journal.
//
// A journal that another process holds is first waited for, up to
// lockWait: that process is alive (another command running in-process, an
// agent starting up or listening elsewhere) and may be running this very
// alarm; once it lets go, this command reads the journal, and a repeated
// alarm is answered from it instead of run twice. Meanwhile the agent's
// address is tried again, and an agent that has come up there takes the
// request (handed). A journal still held after lockWait counts as one that
// cannot be used, like a read-only or full one: a hung holder must never
// block a failover, so the emergency path acts on a scratch journal and
// says so loudly.
func (cl *client) openDirect(ctx context.Context, method, path string, data []byte) (code int, resp []byte, handed bool, err error) {
	cfg := cl.inProcessConfig()
	until := time.Now().Add(lockWait)
	for {
		last := !time.Now().Before(until) || ctx.Err() != nil
		m, err := agent.Open(cfg, agent.Options{LockTimeout: lockPoll, Stderr: cl.env.Stderr, Emergency: true, HeldIsUnusable: last})
		if err == nil {
			cl.opened(m)
			return 0, nil, false, nil
		}
		if !errors.Is(err, journal.ErrLocked) || last {
			return 0, nil, false, exitf(ExitNoAgent, "no agent answered at %s and running in-process failed: %v", cl.base, err)
		}
		if !cl.c.direct && cl.agentListening() {
			code, resp, fallBack, err := cl.askAgent(ctx, method, path, data)
			if !fallBack {
				return code, resp, true, err
			}
		}
	}
}

// opened keeps the in-process agent and says what is unusual about it.
func (cl *client) opened(m *agent.Main) {
	if m.Unjournaled != nil {
		fmt.Fprintf(cl.env.Stderr, "vipagent: WARNING: the journal in %s cannot be used (%v); acting anyway, WITHOUT the journal: no idempotency, and the result is recorded only in a plain file\n", cl.cfg.DataDir, m.Unjournaled)
	}
	cl.direct = m
	cl.announceRecovery()
}

// agentListening reports whether something now takes connections at the
// agent's address.
func (cl *client) agentListening() bool {
	u, err := url.Parse(cl.base)
	if err != nil {
		return false
	}
	c, err := net.DialTimeout("tcp", u.Host, lockPoll)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// send does one request. A context with a deadline (the agent's, not the
// in-process one's) is passed on to the agent as X-Vipagent-Deadline,
// deadlineSlack early.
func (cl *client) send(ctx context.Context, hc *http.Client, base, method, path string, data []byte) (int, []byte, http.Header, error) {
	var rd io.Reader
	if data != nil {
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if data != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if d, ok := ctx.Deadline(); ok && hc.Transport != nil {
		if _, inProcess := hc.Transport.(handlerTransport); !inProcess {
			req.Header.Set(api.HeaderDeadline, d.Add(-deadlineSlack).UTC().Format(time.RFC3339Nano))
		}
	}
	switch {
	case cl.token != "":
		req.Header.Set("Authorization", "Bearer "+cl.token)
	case cl.signKey != "" && cl.local == "":
		// On the local channel the account is the credential.
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(sign.HeaderTimestamp, ts)
		req.Header.Set(sign.HeaderSignature, sign.Sign([]byte(cl.signKey), ts, method, sign.Target(req.URL), data))
	}
	if method == http.MethodPost && req.Header.Get(api.HeaderDeadline) == "" && !cl.deadline.IsZero() {
		// In-process: the run honours the command's bound too. No slack:
		// the caller is this process, which learns the outcome itself.
		req.Header.Set(api.HeaderDeadline, cl.deadline.UTC().Format(time.RFC3339Nano))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	out, err := readAnswer(resp)
	return resp.StatusCode, out, resp.Header, err
}

// maxAnswer bounds an answer from the agent: the largest is a list of
// events, far below it.
const maxAnswer = 16 << 20

var errTooLarge = errors.New("answer larger than the limit")

// notAgent says why an answer cannot be the agent's, or "": the agent
// answers every request with JSON, and never redirects.
func notAgent(code int, body []byte) string {
	switch {
	case code >= 300 && code < 400:
		return fmt.Sprintf("a redirect (%d), which is not followed", code)
	case code >= 500 && len(bytes.TrimSpace(body)) == 0:
		return "" // a failing agent may answer 5xx without a body
	case !json.Valid(body):
		return fmt.Sprintf("status %d with a body that is not JSON: %s", code, excerpt(body))
	}
	return ""
}

// excerpt is the start of an answer, fit for one line of an error.
func excerpt(b []byte) string {
	const n = 200
	s := strings.ToValidUTF8(string(b), "?")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// close ends the in-process agent, if one was started, after its events
// finished.
func (cl *client) close() {
	if cl.direct != nil {
		ctx, cancel := context.WithTimeout(context.Background(), cl.cfg.Limits.ShutdownGrace.D())
		defer cancel()
		cl.direct.Close(ctx)
		cl.direct = nil
	}
}

// noAnswer reports whether err means nothing took the connection: nothing
// listens at the address, or the connection could not be made in time.
func noAnswer(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && ne.Op == "dial"
}

const (
	// connectTimeout bounds the connection to the local agent.
	connectTimeout = 2 * time.Second
	// answerMargin is how much longer than its --wait a command waits for
	// the agent's answer: the agent answers 202 when --wait runs out.
	answerMargin = 2 * time.Second
	// lockWait is how long a one-shot command waits for a journal another
	// process holds before it acts without it (see openDirect), polling
	// every lockPoll.
	lockWait = 2 * time.Second
	lockPoll = 200 * time.Millisecond
	// defaultWait bounds the commands without --wait.
	defaultWait = 10 * time.Second
)

// agentHTTP talks to the local agent: connections are bounded, every
// request carries a deadline (bound), redirects are not followed (the agent
// never sends one, and following one could hand the request, or a dial
// error that looks like "no agent", to another address), and with TLS the
// agent is verified and this command presents the config's certificate,
// as a peer would.
func (cl *client) agentHTTP() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           cl.dialer(),
			TLSClientConfig:       cl.tls,
			TLSHandshakeTimeout:   connectTimeout,
			ResponseHeaderTimeout: 0, // the request's deadline bounds it
			MaxIdleConns:          2,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// bound is how long one request to the agent may take in all.
func (cl *client) bound() time.Duration {
	w := cl.wait
	if w <= 0 {
		w = defaultWait
	}
	return w + answerMargin
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// handlerTransport serves requests with the in-process agent's handler, so
// that an in-process run answers exactly as the agent would over HTTP.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil {
		// A server's request always has a body, if an empty one.
		req.Body = http.NoBody
	}
	w := &bufferedResponse{header: http.Header{}}
	t.h.ServeHTTP(w, req)
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", w.code, http.StatusText(w.code)),
		StatusCode:    w.code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(&w.body),
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// bufferedResponse is the http.ResponseWriter of an in-process request.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (w *bufferedResponse) Header() http.Header { return w.header }

func (w *bufferedResponse) WriteHeader(code int) {
	// An informational answer (the 103 notice) is not the answer.
	if w.code == 0 && code >= 200 {
		w.code = code
	}
}

func (w *bufferedResponse) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// apiError turns an error answer into an ExitError.
func apiError(code int, body []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	ec := ExitFailed
	switch {
	case code == http.StatusBadRequest || code == http.StatusNotFound || code == http.StatusUnsupportedMediaType || code == http.StatusRequestEntityTooLarge:
		ec = ExitUsage
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		ec = ExitUsage
	case code == http.StatusGone:
		// Arrived after its deadline: journaled as expired, nothing done.
		return exitf(ExitNoAgent, "not accepted: the agent answered %d: %s", code, msg)
	}
	return exitf(ec, "agent answered %d: %s", code, safe(msg))
}

// fetch does one request that must answer 200. With --json it prints the
// answer as it came and returns printed=true; otherwise it decodes it into
// dst for the caller to print.
func (cl *client) fetch(ctx context.Context, method, path string, body, dst any) (printed bool, err error) {
	code, resp, err := cl.do(ctx, method, path, body)
	if err != nil {
		return false, err
	}
	if code != http.StatusOK {
		return false, apiError(code, resp)
	}
	if cl.c.json {
		cl.env.Stdout.Write(resp)
		return true, nil
	}
	return false, json.Unmarshal(resp, dst)
}
