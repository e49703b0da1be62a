package agent_test

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/agent/config"
)

// configFile writes cfg as a file for the command, which talks only to
// the agent of its config. Literal secrets are written as the tokens they
// are (YAML output redacts them).
func configFile(t *testing.T, cfg *config.Config) string {
	t.Helper()
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte("[redacted]"), []byte(agent.MonToken))
	p := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// vipagent vip status --pair: one table for the pair, exit 0 only when
// exactly one node holds the VIP and every node answered, 1 when the pair
// is wrong, 4 when a node could not be asked.
func TestVIPStatusPair(t *testing.T) {
	tests := []struct {
		name     string
		on1, on2 bool
		rm2Down  bool
		wantCode int
		wantOut  []string
		wantPair api.PairVIP
	}{
		{name: "rm1 holds", on1: true, wantCode: 0, wantOut: []string{"rm-vip: OK: held by rm1 only"},
			wantPair: api.PairVIP{Name: "rm-vip", Holders: []string{"rm1"}, OK: true}},
		{name: "both hold", on1: true, on2: true, wantCode: 1, wantOut: []string{"rm-vip: PROBLEM: on 2 nodes at once: rm1, rm2"},
			wantPair: api.PairVIP{Name: "rm-vip", Holders: []string{"rm1", "rm2"}}},
		{name: "nobody holds", wantCode: 1, wantOut: []string{"rm-vip: PROBLEM: on no node"},
			wantPair: api.PairVIP{Name: "rm-vip", Holders: []string{}}},
		{name: "rm2 down", on1: true, rm2Down: true, wantCode: 4, wantOut: []string{"rm-vip  rm2   unknown", "rm-vip: PROBLEM: not known on rm2; held by rm1"},
			wantPair: api.PairVIP{Name: "rm-vip", Holders: []string{"rm1"}, Unknown: []string{"rm2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln1, ln2 := listenLoopback(t), listenLoopback(t)
			addrs := map[string]string{"rm1": ln1.Addr().String(), "rm2": ln2.Addr().String()}
			ln1.Close()
			ln2.Close()
			initial := map[bool]string{true: "present", false: "absent"}
			off := func(c *config.Config) { c.Schedules.Reconcile = "off" }
			rm1 := agent.ServedAgent(t, "rm1", addrs, initial[tt.on1], off)
			if !tt.rm2Down {
				agent.ServedAgent(t, "rm2", addrs, initial[tt.on2], off)
			}
			base := []string{"--config", configFile(t, rm1.Config), "--agent", "http://" + rm1.Addr(), "--token", agent.MonToken}
			code, out, stderr := vipagent(t, append([]string{"vip", "status", "--pair"}, base...)...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.wantCode, out, stderr)
			}
			if !strings.HasPrefix(out, "VIP     NODE  PRESENT  OBSERVED AT") {
				t.Errorf("no table header:\n%s", out)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			code, out, stderr = vipagent(t, append([]string{"vip", "status", "--pair", "--json"}, base...)...)
			if code != tt.wantCode {
				t.Errorf("--json: exit %d, want %d\n%s", code, tt.wantCode, stderr)
			}
			var v api.PairView
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("--json: %v\n%s", err, out)
			}
			if diff := cmp.Diff([]api.PairVIP{tt.wantPair}, v.VIPs); diff != "" {
				t.Errorf("--json vips (-want +got):\n%s", diff)
			}
			if len(v.Rows) != 2 || v.Rows[0].Node != "rm1" || v.Rows[1].Node != "rm2" {
				t.Errorf("rows %+v, want one per node", v.Rows)
			}
		})
	}
}
