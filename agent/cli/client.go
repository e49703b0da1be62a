package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/config"
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
}

// newClient is the client of one command; wait is its --wait (0 for
// commands without one).
func newClient(c common, env Env, wait time.Duration) (*client, error) {
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
	if cl.token == "" {
		cl.token = env.Getenv("VIPAGENT_TOKEN")
	}
	if cl.token == "" {
		// A token that cannot be resolved matters only when the agent
		// asks for one; the in-process fallback needs none for what
		// the hooks do (see inProcessConfig).
		cl.token, cl.tokenErr = pickToken(cfg)
	}
	return cl, nil
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

// pickToken uses the strongest configured token that resolves: the CLI
// runs on the agent's host with the agent's configuration. When none
// resolves, the error says which secret is missing and how to provide it.
func pickToken(cfg *config.Config) (string, error) {
	var firstErr error
	for _, want := range []string{config.RoleAdmin, config.RoleTrigger} {
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

// do sends one request. With --direct, or when nothing answers at the
// agent's address, the request is served in-process.
func (cl *client) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return 0, nil, err
		}
	}
	if !cl.c.direct && cl.direct == nil {
		bound := cl.bound()
		rctx, cancel := context.WithTimeout(ctx, bound)
		code, resp, err := cl.send(rctx, agentHTTP, cl.base, method, path, data)
		cancel()
		if err == nil {
			if code == http.StatusUnauthorized && cl.tokenErr != nil {
				return 0, nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("agent at %s wants a token and no configured one can be used: %w", cl.base, cl.tokenErr)}
			}
			return code, resp, nil
		}
		if !noAnswer(err) {
			if rctx.Err() != nil && ctx.Err() == nil {
				// Connected, then silence: the agent is hung or stalled. Not
				// in-process: it may hold the journal, or be acting on this
				// very request.
				return 0, nil, exitf(ExitNoAgent, "agent at %s accepted the connection but did not answer within %s (--wait plus %s); not running in-process, since that agent may be acting on this request", cl.base, bound, answerMargin)
			}
			return 0, nil, exitf(ExitFailed, "agent at %s: %v", cl.base, err)
		}
		if cl.explicit {
			return 0, nil, exitf(ExitNoAgent, "no agent answered at %s (%v); not running in-process because the agent was named explicitly (use --direct for that)", cl.base, rootCause(err))
		}
		fmt.Fprintf(cl.env.Stderr, "vipagent: no agent answered at %s (%v); running in-process on %s\n", cl.base, rootCause(err), cl.cfg.DataDir)
	}
	if cl.direct == nil {
		m, err := agent.Open(cl.inProcessConfig(), agent.Options{LockTimeout: 300 * time.Millisecond, Stderr: cl.env.Stderr, Emergency: true})
		if err != nil {
			return 0, nil, exitf(ExitNoAgent, "no agent answered at %s and running in-process failed: %v", cl.base, err)
		}
		if m.Unjournaled != nil {
			fmt.Fprintf(cl.env.Stderr, "vipagent: WARNING: the journal in %s cannot be used (%v); acting anyway, WITHOUT the journal: no idempotency, and the result is recorded only in a plain file\n", cl.cfg.DataDir, m.Unjournaled)
		}
		cl.direct = m
		cl.announceRecovery()
	}
	hc := &http.Client{Transport: handlerTransport{cl.direct.Handler}}
	code, resp, err := cl.send(ctx, hc, "http://in-process", method, path, data)
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

func (cl *client) send(ctx context.Context, hc *http.Client, base, method, path string, data []byte) (int, []byte, error) {
	var rd io.Reader
	if data != nil {
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if data != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, out, err
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
	// defaultWait bounds the commands without --wait.
	defaultWait = 10 * time.Second
)

// agentHTTP talks to the local agent: connections are bounded, and every
// request carries a deadline (bound).
var agentHTTP = &http.Client{Transport: &http.Transport{
	Proxy:                 nil,
	DialContext:           (&net.Dialer{Timeout: connectTimeout}).DialContext,
	TLSHandshakeTimeout:   connectTimeout,
	ResponseHeaderTimeout: 0, // the request's deadline bounds it
	MaxIdleConns:          2,
	IdleConnTimeout:       30 * time.Second,
}}

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
	if w.code == 0 {
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
	}
	return exitf(ec, "agent answered %d: %s", code, msg)
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
