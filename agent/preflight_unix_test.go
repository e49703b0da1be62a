//go:build unix

package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// `config check` and `serve` find a missing NLB control program, a cluster
// this host is not in, and an answer they cannot read before any failover
// needs them, naming which.
func TestPreflightNLB(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		program string
		want    string
	}{
		{"cluster answers", viptest.Write(t, dir, "nlb-ok", "#!/bin/bash\necho 'Cluster 192.0.2.100'\necho 'Host 1 is stopped and does not know convergence state of the cluster.'\nexit 1\n"), ""},
		{"no control program", filepath.Join(dir, "missing", "nlb.exe"), "vips.rm-vip: nlb backend: the NLB control program is missing (install the Network Load Balancing feature"},
		{"not in the cluster", viptest.Write(t, dir, "nlb-nocluster", "#!/bin/bash\necho 'Cluster 192.0.2.100 not found.'\nexit 1\n"),
			"vips.rm-vip: nlb backend: the NLB cluster 192.0.2.100 cannot be read on this host (is this host in it? see `nlb-nocluster query 192.0.2.100 local`)"},
		{"another display language", viptest.Write(t, dir, "nlb-de", "#!/bin/bash\necho 'Host 1 ist angehalten.'\nexit 1\n"),
			"output not recognised"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Defaults()
			cfg.VIPs = map[string]config.VIP{"rm-vip": {Address: "192.0.2.100/24", Backend: "nlb", Options: map[string]any{"program": tt.program}}}
			probs := Preflight(t.Context(), &cfg)
			switch {
			case tt.want == "" && len(probs) > 0:
				t.Errorf("Preflight = %q, want no problems", probs)
			case tt.want != "" && (len(probs) != 1 || !strings.Contains(probs[0], tt.want)):
				t.Errorf("Preflight = %q, want one problem containing %q", probs, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("the missing program's directory exists")
	}
}
