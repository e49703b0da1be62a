package identity

import (
	"errors"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/config"
)

func load(t *testing.T, extra string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(`
node: rm1
data_dir: /var/lib/vipagent
nodes:
  rm1: {member_id: 1, host: rm1, rm_application: RM_1}
vips:
  rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake}
` + extra))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	return cfg
}

const twoSecrets = `auth:
  tokens:
    - {name: a, token: admin-token-0123456789abcdef, role: admin}
  webhook_secret: webhook-secret-0123456789abcdef
`

// Only an answer keyed by one of the config's secrets, for this nonce,
// over what it claims, is accepted; anything else is unproven, and a
// proven agent with another node, digest or data directory a mismatch.
func TestCheck(t *testing.T) {
	cfg := load(t, twoSecrets)
	d := config.Digest(cfg)
	nonce := NewNonce()
	good := Of(cfg, d, nonce, "v1")
	if err := Check(cfg, "x", nonce, good, true); err != nil {
		t.Fatalf("the agent's own answer: %v", err)
	}
	var unproven *UnprovenError
	var mismatch *MismatchError
	for name, tt := range map[string]struct {
		id Identity
	}{
		"another nonce":                          {Of(cfg, d, NewNonce(), "v1")},
		"no proof":                               {func() Identity { i := good; i.Proof = ""; return i }()},
		"uppercase proof":                        {func() Identity { i := good; i.Proof = strings.ToUpper(i.Proof); return i }()},
		"claims another node with the old proof": {func() Identity { i := good; i.Node = "rm2"; return i }()},
		"keyed by a secret this config lacks":    {Of(load(t, strings.Replace(twoSecrets, "admin-token-", "other-token-", 1)), d, nonce, "v1")},
	} {
		err := Check(cfg, "x", nonce, tt.id, true)
		if !errors.As(err, &unproven) {
			t.Errorf("%s: %v, want unproven", name, err)
		}
	}
	// A proven agent of another data directory is a mismatch naming both.
	other := *cfg
	other.DataDir = "/srv/other"
	err := Check(cfg, "127.0.0.1:8470", nonce, Of(&other, config.Digest(&other), nonce, "v1"), true)
	if !errors.As(err, &mismatch) || !strings.Contains(err.Error(), "/srv/other") || !strings.Contains(err.Error(), "/var/lib/vipagent") {
		t.Errorf("other data dir: %v", err)
	}
	// Without needProof (local channel, TLS with the CA) the claims are
	// still compared.
	if err := Check(cfg, "x", nonce, Identity{Node: "rm1", DataDir: "/var/lib/vipagent", ConfigDigest: "0"}, false); !errors.As(err, &mismatch) {
		t.Errorf("no proof needed, other digest: %v", err)
	}
	// A config whose secrets this process cannot read cannot check a
	// proof: refused, with the way out.
	unreadable := load(t, "auth:\n  tokens:\n    - {name: a, token: \"env:VIPAGENT_NOT_SET\", role: admin}\n")
	if err := Check(unreadable, "x", nonce, Of(unreadable, config.Digest(unreadable), nonce, ""), true); !errors.As(err, &unproven) || !strings.Contains(err.Error(), "local.socket") {
		t.Errorf("unreadable secrets: %v", err)
	}
	// An open config (no secret at all) has nothing to prove with.
	open := load(t, "")
	if err := Check(open, "x", nonce, Of(open, config.Digest(open), nonce, ""), true); err != nil {
		t.Errorf("open config: %v", err)
	}
}

func TestValidNonce(t *testing.T) {
	for n, want := range map[string]bool{
		NewNonce():               true,
		strings.Repeat("a", 31):  false,
		strings.Repeat("a", 130): false,
		strings.Repeat("A", 32):  false,
		strings.Repeat("g", 32):  false,
		strings.Repeat("0f", 64): true,
		"":                       false,
	} {
		if ValidNonce(n) != want {
			t.Errorf("ValidNonce(%q) = %v", n, !want)
		}
	}
}

// The asker's proof: good for its nonce and a secret of the config only.
func TestAskedNeedsTheConfigsSecretAndTheNonce(t *testing.T) {
	cfg := load(t, twoSecrets)
	nonce, other := NewNonce(), NewNonce()
	good := Ask("webhook-secret-0123456789abcdef", nonce) // any of its secrets
	for _, tc := range []struct {
		name, nonce, proof string
		want               bool
	}{
		{"the config's secret, this nonce", nonce, good, true},
		{"another nonce", other, good, false},
		{"another secret", nonce, Ask("not-the-token-0123456789", nonce), false},
		{"the agent's own proof is no asker's", nonce, prove("admin-token-0123456789abcdef", nonce, Identity{}), false},
		{"none", nonce, "", false},
	} {
		if got := Asked(cfg, tc.nonce, tc.proof); got != tc.want {
			t.Errorf("%s: Asked = %v, want %v", tc.name, got, tc.want)
		}
	}
}
