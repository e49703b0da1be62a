package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// key is one configured secret and where it is.
type key struct {
	path, what string
	s          Secret
}

// validateKeys keeps the keys the agent accepts (bearer tokens, the webhook
// secret) apart from each other and from the keys it sends with (report
// secrets, the callback secret): a receiver of our reports must not be able
// to sign or authorise requests to us, and a token has exactly one role.
// The tokens this agent sends to its peers are keys the pair accepts, so
// nothing sent to a report receiver may be one of them either.
// Secrets are compared by value when both could be resolved, and by
// reference always (the same env:NAME is the same key wherever it runs).
func (c *Config) validateKeys(p *Problems) {
	var accepted []key
	for i, t := range c.Auth.Tokens {
		if !t.Token.IsSet() {
			continue
		}
		path := fmt.Sprintf("auth.tokens[%d].token", i)
		for _, a := range accepted {
			if sameSecret(a.s, t.Token) {
				p.add(path, "the same token as %s (%s): a token has one role and one name", a.path, a.what)
				break
			}
		}
		accepted = append(accepted, key{path, "role " + t.Role, t.Token})
	}
	for _, name := range slices.Sorted(maps.Keys(c.Nodes)) {
		if t := c.Nodes[name].Token; t.IsSet() {
			accepted = append(accepted, key{"nodes." + name + ".token", "a peer token", t})
		}
	}
	// The webhook secret is no token: whoever signs webhooks must not be
	// able to call the API with the same string, nor the reverse.
	if ws := c.Auth.WebhookSecret; ws.IsSet() {
		for _, a := range accepted {
			if sameSecret(a.s, ws) {
				p.add("auth.webhook_secret", "the same value as %s: a signing key must differ from every token; use a separate secret", a.path)
				break
			}
		}
		accepted = append(accepted, key{"auth.webhook_secret", "the webhook secret", ws})
	}
	sent := []key{{"auth.callback_secret", "", c.Auth.CallbackSecret}}
	for i, r := range c.Reports {
		sent = append(sent, key{fmt.Sprintf("reports[%d].secret", i), "", r.Secret})
	}
	for _, k := range sent {
		if !k.s.IsSet() {
			continue
		}
		for _, a := range accepted {
			if sameSecret(a.s, k.s) {
				p.add(k.path, "the same key as %s: whoever receives what we sign with it could sign or authorise requests to this agent; use a separate secret", a.path)
				break
			}
		}
	}
	c.validateReportsCarryNoKey(p, accepted)
}

// validateReportsCarryNoKey refuses a report target whose URL or headers
// carry a key the agent or its peer accepts (say `Authorization: Bearer
// <the admin token>`): the receiver would get it with every report.
func (c *Config) validateReportsCarryNoKey(p *Problems, accepted []key) {
	carries := func(path, text string) {
		for _, a := range accepted {
			if v, err := a.s.Resolve(); err == nil && v != "" && strings.Contains(text, v) {
				p.add(path, "carries the key of %s: the report receiver would get a key that authorises requests to vipagent; give the receiver its own", a.path)
				return
			}
		}
	}
	for i, r := range c.Reports {
		carries(fmt.Sprintf("reports[%d].url", i), r.URL)
		for _, name := range slices.Sorted(maps.Keys(r.Headers)) {
			carries(fmt.Sprintf("reports[%d].headers.%s", i, name), r.Headers[name])
		}
	}
}

// sameSecret reports whether two configured secrets are the same key.
func sameSecret(a, b Secret) bool {
	if !a.IsSet() || !b.IsSet() {
		return false
	}
	if a.Ref == b.Ref {
		return true
	}
	av, aerr := a.Resolve()
	bv, berr := b.Resolve()
	return aerr == nil && berr == nil && av != "" && av == bv
}
