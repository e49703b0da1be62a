// Package identity is how an agent proves who it is before a command sends
// it a credential: GET /v1/identity?nonce=N answers the agent's node, data
// directory and config digest, with an HMAC over them and the caller's
// nonce keyed by a secret of the config. A listener that took the agent's
// address cannot answer without knowing that secret; an agent running
// another config answers, but names another node, data directory or digest.
// Both halves (Of for the agent, Check for the command) live here.
package identity

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vipagent/vipagent/agent/config"
)

// Path is the route of the identity challenge.
const Path = "/v1/identity"

// Identity is the agent's answer.
type Identity struct {
	Node         string            `json:"node"`
	DataDir      string            `json:"data_dir"`
	ConfigDigest string            `json:"config_digest"`
	Backends     map[string]string `json:"backends"`
	Version      string            `json:"version"`
	// Proof is the hex HMAC-SHA256 of the nonce and the fields above keyed
	// by the config's identity secret (see Secrets); "" when the config has
	// none (an open agent on loopback).
	Proof string `json:"proof"`
}

// NonceLen is the length in bytes of a nonce (hex-encoded on the wire).
const NonceLen = 16

// NewNonce is a fresh random nonce, hex-encoded.
func NewNonce() string {
	b := make([]byte, NonceLen)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ValidNonce reports whether n is a nonce a caller may send: 16 to 64
// lowercase hex bytes.
func ValidNonce(n string) bool {
	if len(n) < 2*NonceLen || len(n) > 128 || len(n)%2 != 0 {
		return false
	}
	return strings.Trim(n, "0123456789abcdef") == ""
}

// Of is what the agent running cfg answers to nonce; digest is
// config.Digest(cfg), which the agent computes once per config.
func Of(cfg *config.Config, digest, nonce, version string) Identity {
	id := Identity{
		Node:         cfg.Node,
		DataDir:      cfg.DataDir,
		ConfigDigest: digest,
		Backends:     Backends(cfg),
		Version:      version,
	}
	if s := Secrets(cfg); len(s) > 0 {
		id.Proof = prove(s[0], nonce, id)
	}
	return id
}

// Backends maps each VIP to its backend.
func Backends(cfg *config.Config) map[string]string {
	m := make(map[string]string, len(cfg.VIPs))
	for name, v := range cfg.VIPs {
		m[name] = v.Backend
	}
	return m
}

// Secrets are the config's secrets that can key the proof, in the order of
// preference: the bearer tokens as listed, then the webhook secret. Only
// those this process can resolve are returned: the agent proves with the
// first, and a command accepts a proof made with any it knows (RM's
// account may read the trigger token's file but not the admin one's).
func Secrets(cfg *config.Config) []string {
	var out []string
	for _, t := range cfg.Auth.Tokens {
		if v, err := t.Token.Resolve(); err == nil && v != "" {
			out = append(out, v)
		}
	}
	if v, err := cfg.Auth.WebhookSecret.Resolve(); err == nil && v != "" {
		out = append(out, v)
	}
	return out
}

func prove(secret, nonce string, id Identity) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("vipagent-identity\n" + nonce + "\n" + id.Node + "\n" + id.DataDir + "\n" + id.ConfigDigest))
	return hex.EncodeToString(m.Sum(nil))
}

// MismatchError says that the agent that answered is not the one the
// command's config describes; Error names both sides.
type MismatchError struct {
	Where string // the agent's address
	Got   Identity
	Want  Identity
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("the agent at %s runs %s; this command's config is %s: not sending it anything (run this command with the agent's config, or start the agent with this one)",
		e.Where, describe(e.Got), describe(e.Want))
}

func describe(id Identity) string {
	return fmt.Sprintf("node %s with data directory %s, config digest %s, on the %s backend", id.Node, id.DataDir, short(id.ConfigDigest), backendWords(id.Backends))
}

func short(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// backendWords is "fake" or "ip (rm-vip), fake (other-vip)".
func backendWords(b map[string]string) string {
	set := map[string][]string{}
	for vip, be := range b {
		set[be] = append(set[be], vip)
	}
	if len(set) == 1 {
		for be := range set {
			return be
		}
	}
	var parts []string
	for _, be := range slices.Sorted(maps.Keys(set)) {
		vips := set[be]
		slices.Sort(vips)
		parts = append(parts, be+" ("+strings.Join(vips, ", ")+")")
	}
	if len(parts) == 0 {
		return "no"
	}
	return strings.Join(parts, ", ")
}

// UnprovenError says that what answered could not prove it knows the
// config's secret.
type UnprovenError struct {
	Where  string
	Reason string
}

func (e *UnprovenError) Error() string {
	return fmt.Sprintf("whatever answers at %s could not prove it is this config's agent (%s): not sending it a credential or a request", e.Where, e.Reason)
}

// Check compares the answer got to nonce with what cfg describes (want is
// what Of says for cfg). needProof requires a valid proof: every channel but the
// local one, whose directory the operating system guards, and except for a
// config with no secret at all (an open agent, loopback only), which has
// nothing to prove with. where names the agent in errors.
func Check(cfg *config.Config, where, nonce string, got Identity, needProof bool) error {
	want := Of(cfg, config.Digest(cfg), "", "")
	if needProof {
		secrets := Secrets(cfg)
		switch {
		case len(secrets) > 0:
			if !proven(secrets, nonce, got) {
				reason := "its proof does not match any secret of this config"
				if got.Proof == "" {
					reason = "it gave no proof"
				}
				if n := configured(cfg); n > len(secrets) {
					// The agent proves with the first secret it can read.
					reason += fmt.Sprintf("; this process can read only %d of the config's %d secrets, and the agent proves with the first it can read (auth.tokens in order, then auth.webhook_secret): make that one readable here, or use the local channel (local.socket)", len(secrets), n)
				}
				if got.Node != want.Node || got.ConfigDigest != want.ConfigDigest || got.DataDir != want.DataDir {
					// What it claims is worth showing, marked as a claim.
					reason += fmt.Sprintf("; it claims %s", describe(got))
				}
				return &UnprovenError{Where: where, Reason: reason}
			}
		case cfg.Auth.WebhookSecret.IsSet() || len(cfg.Auth.Tokens) > 0:
			return &UnprovenError{Where: where, Reason: "none of this config's tokens or webhook secret can be read by this process to check its proof; use the local channel (local.socket) or make a token file readable"}
		}
	}
	if got.Node != want.Node || got.ConfigDigest != want.ConfigDigest || got.DataDir != want.DataDir {
		return &MismatchError{Where: where, Got: got, Want: want}
	}
	return nil
}

// configured counts the secrets that could key the proof.
func configured(cfg *config.Config) int {
	n := 0
	for _, t := range cfg.Auth.Tokens {
		if t.Token.IsSet() {
			n++
		}
	}
	if cfg.Auth.WebhookSecret.IsSet() {
		n++
	}
	return n
}

func proven(secrets []string, nonce string, got Identity) bool {
	p, err := hex.DecodeString(got.Proof)
	if err != nil || len(p) != sha256.Size || got.Proof != strings.ToLower(got.Proof) {
		return false
	}
	for _, s := range secrets {
		want, _ := hex.DecodeString(prove(s, nonce, got))
		if hmac.Equal(p, want) {
			return true
		}
	}
	return false
}

// HeaderAsk carries the asker's own proof: HMAC-SHA256 of the nonce keyed
// by a secret of the config (Ask). It shows the agent that a command of
// its config is asking, without handing a squatter anything it could use
// (a fresh nonce each time), so the agent serves the question from its
// trusted budget and strangers flooding the open route cannot starve the
// hooks' identity check.
const HeaderAsk = "X-Vipagent-Ask"

// Ask is the asker's proof for nonce under secret.
func Ask(secret, nonce string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("vipagent-identity-ask\n" + nonce))
	return hex.EncodeToString(m.Sum(nil))
}

// Asked reports whether proof is Ask(s, nonce) for one of cfg's secrets.
func Asked(cfg *config.Config, nonce, proof string) bool {
	if proof == "" || !ValidNonce(nonce) {
		return false
	}
	ok := false
	for _, s := range Secrets(cfg) {
		if hmac.Equal([]byte(Ask(s, nonce)), []byte(proof)) {
			ok = true
		}
	}
	return ok
}
