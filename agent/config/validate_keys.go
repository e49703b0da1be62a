package config

import "fmt"

// validateKeys keeps the keys the agent accepts (bearer tokens, the webhook
// secret) apart from each other and from the keys it sends with (report
// secrets, the callback secret): a receiver of our reports must not be able
// to sign or authorise requests to us, and a token has exactly one role.
// Secrets are compared by value when both could be resolved, and by
// reference always (the same env:NAME is the same key wherever it runs).
func (c *Config) validateKeys(p *Problems) {
	type key struct {
		path, what string
		s          Secret
	}
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
	if c.Auth.WebhookSecret.IsSet() {
		accepted = append(accepted, key{"auth.webhook_secret", "the webhook secret", c.Auth.WebhookSecret})
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
