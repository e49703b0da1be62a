package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vipagent/vipagent/agent/api"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/vipagent/vipagent/agent/identity"
	"github.com/vipagent/vipagent/agent/localchan"
)

// ExitUnknown: the agent accepted the request as an event, and this
// command gave up before it learnt the outcome.
const ExitUnknown = 5

// deadlineSlack is how much earlier than this command gives up the agent
// is told to: an event the agent starts just before its deadline has its
// 103 notice delivered while this command still listens.
const deadlineSlack = time.Second

// chooseLocal picks the local channel when the config has one and it is
// there; a socket whose directory others could write is refused (exit 2),
// since whoever can write there may be listening in the agent's place.
// (A Windows pipe is checked once open: see localchan.Dial.)
func (cl *client) chooseLocal() error {
	l := cl.cfg.Local
	if cl.explicit || !l.Enabled() || !localchan.Present(l.Socket) {
		return nil // no agent there: the TCP address, then in-process
	}
	if err := localchan.CheckPath(l.Socket, cl.cfg.DataDir); err != nil {
		return exitf(ExitUsage, "local.socket %s cannot be trusted: %v; not using it", l.Socket, err)
	}
	cl.local = l.Socket
	return nil
}

// where names the agent this command talks to, for messages.
func (cl *client) where() string {
	if cl.local != "" {
		return cl.local
	}
	return cl.base
}

// baseURL is the URL requests to the agent go to; on the local channel the
// host is only a name, the dialer goes to the socket.
func (cl *client) baseURL() string {
	if cl.local != "" {
		return "http://vipagent.local"
	}
	return cl.base
}

// needProof is whether the agent must prove it knows the config's secret:
// not on the local channel, whose directory the operating system guards,
// nor over TLS verified with the configured CA, which already proves the
// server.
func (cl *client) needProof() bool {
	if cl.local != "" {
		return false
	}
	return !(strings.HasPrefix(cl.base, "https://") && cl.cfg.TLS.CA != "")
}

// verify asks the agent who it is before anything else is sent, and
// compares the answer with this command's config (package identity).
func (cl *client) verify(ctx context.Context, hc *http.Client) error {
	nonce := identity.NewNonce()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cl.baseURL()+identity.Path+"?nonce="+nonce, nil)
	if err != nil {
		return err
	}
	if s := identity.Secrets(cl.cfg); len(s) > 0 {
		// Our own proof, good for this nonce only: the agent answers us
		// from its trusted budget, whatever strangers send it.
		req.Header.Set(identity.HeaderAsk, identity.Ask(s[0], nonce))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var got identity.Identity
	body, err := readAnswer(resp)
	if err != nil {
		return err
	}
	if why := notAgent(resp.StatusCode, body); why != "" {
		return exitf(ExitNoAgent, "%s answered, but not as a vipagent agent: %s; not sending it anything, and not running in-process, since something else holds the agent's address", cl.where(), why)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		// The agent is busy: nothing was sent, and it is not a stranger.
		return exitf(ExitNoAgent, "not accepted: the agent at %s is too busy to answer who it is (%d: %s); nothing was sent to it", cl.where(), resp.StatusCode, excerpt(body))
	}
	if resp.StatusCode != http.StatusOK {
		return &ExitError{Code: ExitUsage, Err: &identity.UnprovenError{Where: cl.where(), Reason: fmt.Sprintf("it answered the identity challenge with status %d: %s", resp.StatusCode, excerpt(body))}}
	}
	if err := json.Unmarshal(body, &got); err != nil {
		return &ExitError{Code: ExitUsage, Err: &identity.UnprovenError{Where: cl.where(), Reason: "its answer to the identity challenge is not an identity: " + excerpt(body)}}
	}
	if err := identity.Check(cl.cfg, cl.where(), nonce, got, cl.needProof()); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	cl.verified = true
	return nil
}

// trace records the agent's 103 notice: the event it journaled this
// request as.
func (cl *client) trace(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			if code == http.StatusEarlyHints {
				if id := h.Get(api.HeaderEvent); id != "" {
					cl.accepted = id
				}
			}
			return nil
		},
	})
}

// gaveUp is the error of a command that stopped waiting for the agent:
// exit 5 when the agent said it accepted the request, 4 otherwise.
func (cl *client) gaveUp(why string, deadline time.Time) error {
	if cl.accepted != "" {
		return exitf(ExitUnknown, "accepted as %s, outcome unknown: %s; see `vipagent events show %s`", cl.accepted, why, cl.accepted)
	}
	return exitf(ExitNoAgent, "not accepted: %s; the request said the agent must not start it after %s, so it does nothing", why, timeUTC(deadline))
}

// retryDelay is how long a 429 or 503 answer asks to wait (Retry-After, in
// seconds or as a date), and whether to wait at all: only when the retry
// can still finish before until.
func retryDelay(code int, h http.Header, now, until time.Time) (time.Duration, bool) {
	if code != http.StatusTooManyRequests && code != http.StatusServiceUnavailable {
		return 0, false
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	// A signed request signs the second it is sent in; a retry within
	// that second would repeat the signature, which the agent refuses.
	d = max(d, time.Second)
	if !now.Add(d).Add(deadlineSlack).Before(until) {
		return 0, false
	}
	return d, true
}

// dialer is how connections to the agent are made: to the local socket, or
// over TCP.
func (cl *client) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	if cl.local != "" {
		path, dataDir := cl.local, cl.cfg.DataDir
		return func(ctx context.Context, _, _ string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, connectTimeout)
			defer cancel()
			c, err := localchan.Dial(ctx, path, dataDir)
			var untrusted *localchan.UntrustedError
			if errors.As(err, &untrusted) {
				return nil, err
			}
			if err != nil {
				return nil, &net.OpError{Op: "dial", Net: "unix", Err: err}
			}
			return c, nil
		}
	}
	return (&net.Dialer{Timeout: connectTimeout}).DialContext
}

// readAnswer reads an answer of at most maxAnswer bytes.
func readAnswer(resp *http.Response) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err == nil && len(out) > maxAnswer {
		err = fmt.Errorf("%w (%d bytes)", errTooLarge, maxAnswer)
	}
	return out, err
}
