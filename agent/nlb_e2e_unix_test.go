//go:build unix

package agent_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// nlbHost2 is NLB's control program on host 2 of a cluster whose host 1
// stays converged (its file "others" lists it): start converges host 2
// with host 1; drainstop and stop stop host 2 only.
const nlbHost2 = `#!/bin/bash
state=$(cat "$DIR/state" 2>/dev/null || echo stopped)
others=$(cat "$DIR/others" 2>/dev/null)
case "$1" in
start) echo converged > "$DIR/state"; echo "Cluster operations started." ;;
enable) echo "Traffic handling for specified port rule(s) enabled." ;;
drainstop|stop) echo stopped > "$DIR/state"; echo "Cluster operations stopped." ;;
query)
	echo "Cluster $2"
	if [ "$state" = converged ]; then
		echo "Host 2 converged with the following host(s) as part of the cluster:"
		if [ -n "$others" ]; then echo "$others, 2"; else echo 2; fi
	else
		echo "Host 2 is stopped and does not know convergence state of the cluster."
	fi ;;
esac
exit 1
`

// With rm1's agent down but its NLB host still converged, `failover
// enable 2` on rm2 does not succeed: the cluster shows two converged hosts,
// rm1 cannot be stopped through its agent, rm2 stops again and the step
// fails with "both hosts converged".
func TestNLBFailoverWithThePeerStillConverged(t *testing.T) {
	dir := t.TempDir()
	program := viptest.Write(t, dir, "nlb", nlbHost2)
	if err := os.WriteFile(filepath.Join(dir, "others"), []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, addr := agenttest.WriteConfig(t, `
node: rm2
listen: %s
data_dir: %s
nodes:
  rm1: {member_id: 1, url: 'http://`+agenttest.FreeAddr(t)+`', token: peer-token-0123456789}
  rm2: {member_id: 2}
vips:
  rm-vip: {address: 192.0.2.100/24, backend: nlb, options: {program: `+program+`, disable_mode: stop}}
limits: {retries: 0}
`)
	agenttest.Start(t, binary, cfg, addr)
	code, out, errOut := vipagent(t, "failover", "enable", "2", "--config", cfg, "--json")
	if code != 1 {
		t.Fatalf("failover enable 2: exit %d, want 1 (failed)\n%s%s", code, out, errOut)
	}
	var res struct {
		Status string `json:"status"`
		Steps  []struct {
			Node, Action, Outcome, Error string
			Unreachable                  bool
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &res); err != nil {
		t.Fatalf("result: %v\n%s", err, out)
	}
	got := fmt.Sprintf("%s; %+v", res.Status, res.Steps)
	if res.Status != "failed" || len(res.Steps) != 2 || !res.Steps[0].Unreachable ||
		res.Steps[1].Outcome != "failed" || !strings.Contains(res.Steps[1].Error, "both hosts converged") ||
		!strings.Contains(res.Steps[1].Error, "stopping host 1 through its agent") {
		t.Errorf("result %s\nwant failed: rm1 unreachable, then rm2's enable failed with both hosts converged", got)
	}
	if state, _ := os.ReadFile(filepath.Join(dir, "state")); strings.TrimSpace(string(state)) != "stopped" {
		t.Errorf("rm2's NLB host is %q after the failed enable, want stopped (host 1 keeps the cluster)", state)
	}
}
