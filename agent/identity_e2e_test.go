package agent_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/identity"
)

// identityConfig is an agent's config with tokens and a webhook secret.
const identityConfig = `
node: %s
listen: %s
data_dir: %s
nodes:
  rm1: {member_id: 1, host: rm1, rm_application: RM_1}
  rm2: {member_id: 2, host: rm2, rm_application: RM_2, url: "http://192.0.2.2:8470"}
vips:
  rm-vip: {address: %s, interface: eth0, backend: fake, options: {initial: present}}
failover:
  vips: [rm-vip]
reactions:
  - name: rm1-stopped
    match: {condition: [RM1_Stopped]}
    steps: [{disable: rm-vip}]
auth:
  tokens:
    - {name: admin, token: admin-token-0123456789abcdef, role: admin}
    - {name: hook, token: trigger-token-0123456789abcdef, role: trigger}
  webhook_secret: webhook-secret-0123456789abcdef
log:
  format: json
`

func writeIdentityConfig(t *testing.T, dir, node, addr, vip string) string {
	t.Helper()
	p := filepath.Join(dir, node+"-"+strings.NewReplacer("/", "_", ".", "_").Replace(vip)+".yaml")
	if err := os.WriteFile(p, []byte(fmt.Sprintf(identityConfig, node, addr, filepath.Join(dir, "data"), vip)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The CLI reaches only the agent its config describes: an agent running
// another config (another digest) or another data directory is named with
// both sides, exit 2, and asked nothing: its journal holds no event.
func TestCLIRefusesAnotherConfigsAgent(t *testing.T) {
	dir := t.TempDir()
	addr := agenttest.FreeAddr(t)
	cfgA := writeIdentityConfig(t, dir, "rm1", addr, "192.0.2.100/24")
	cfgB := writeIdentityConfig(t, dir, "rm1", addr, "192.0.2.101/24")
	agenttest.Start(t, binary, cfgA, addr)
	a, err := config.Load(cfgA, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := config.Load(cfgB, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		args  []string
		wants []string
	}{
		{"another config", []string{"--config", cfgB}, []string{config.Digest(a)[:12], config.Digest(b)[:12]}},
		{"another data directory", []string{"--config", cfgA, "--data", filepath.Join(dir, "other")}, []string{filepath.Join(dir, "data"), filepath.Join(dir, "other")}},
	} {
		for _, cmd := range [][]string{
			{"fire", "--condition", "RM1_Stopped", "--wait", "2s"},
			{"failover", "disable", "--wait", "2s"},
			{"vip", "enable", "rm-vip", "--force", "--wait", "2s"},
			{"vip", "status"},
		} {
			code, out, errOut := vipagent(t, append(cmd, tt.args...)...)
			if code != 2 || strings.Contains(out+errOut, "succeeded") {
				t.Errorf("%s: %v: exit %d, want 2 and never succeeded:\n%s%s", tt.name, cmd, code, out, errOut)
			}
			for _, w := range append(tt.wants, "the agent at http://"+addr+" runs node rm1", "this command's config is node rm1", "fake backend") {
				if !strings.Contains(errOut, w) {
					t.Errorf("%s: %v: error does not name %q:\n%s", tt.name, cmd, w, errOut)
				}
			}
		}
	}
	code, out, _ := vipagent(t, "events", "list", "--config", cfgA, "--json")
	if code != 0 || strings.Contains(out, "RM1_Stopped") || strings.Contains(out, "failover") {
		t.Errorf("the other config's commands reached the agent: exit %d\n%s", code, out)
	}
	// Its own config is served.
	code, out, errOut := vipagent(t, "fire", "--config", cfgA, "--condition", "RM1_Stopped", "--wait", "5s")
	if code != 0 || !strings.Contains(out, "succeeded") {
		t.Errorf("own config: exit %d\n%s%s", code, out, errOut)
	}
}

// Whatever listens on the agent's port while the agent is down never gets
// a credential: it cannot answer the identity challenge without the
// config's secret, even when it claims the right node, data directory and
// digest, and whatever it answers afterwards is never reported as success.
func TestSquatterNeverGetsACredential(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := writeIdentityConfig(t, dir, "rm1", ln.Addr().String(), "192.0.2.100/24")
	cfg, err := config.Load(cfgPath, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		for _, h := range []string{"Authorization", "X-Vipagent-Signature"} {
			if v := r.Header.Get(h); v != "" {
				seen = append(seen, r.URL.Path+" "+h+": "+v)
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == identity.Path {
			// It copies everything but the proof, which needs the secret.
			id := identity.Of(cfg, config.Digest(cfg), r.URL.Query().Get("nonce"), "squatter")
			id.Proof = strings.Repeat("ab", 32)
			json.NewEncoder(w).Encode(id)
			return
		}
		fmt.Fprint(w, `{"event_id":"rm1-fake","node":"rm1","status":"succeeded","steps":[{"node":"rm1","vip":"rm-vip","action":"enable","outcome":"changed"}]}`)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	for _, cmd := range [][]string{
		{"fire", "--condition", "RM1_Stopped"},
		{"failover", "enable", "2"},
		{"failover", "disable"},
		{"vip", "enable", "rm-vip", "--force"},
		{"events", "list"},
	} {
		code, out, errOut := vipagent(t, append(cmd, "--config", cfgPath, "--wait", "2s")...)
		if cmd[0] == "events" {
			code, out, errOut = vipagent(t, append(cmd, "--config", cfgPath)...)
		}
		if code == 0 || strings.Contains(out+errOut, "succeeded") || !strings.Contains(errOut, "could not prove it is this config's agent") {
			t.Errorf("%v: exit %d, want non-zero without succeeded, saying the listener could not prove itself:\n%s%s", cmd, code, out, errOut)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) > 0 {
		t.Errorf("the squatter received credentials:\n%s", strings.Join(seen, "\n"))
	}
}
