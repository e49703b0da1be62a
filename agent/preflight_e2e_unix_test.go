//go:build unix

package agent_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// A host without NLB is found by `config check` and `serve` (exit 2, naming
// what is missing), not at the first failover.
func TestNLBMissingFailsBeforeTheFailover(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "nlb.yaml", `
node: rm1
nodes: {rm1: {}}
data_dir: `+filepath.Join(dir, "data")+`
vips: {rm-vip: {address: 192.0.2.100/24, backend: nlb, options: {program: `+filepath.Join(dir, "no-nlb", "nlb.exe")+`}}}
`)
	for _, args := range [][]string{{"config", "check", "--config", cfg}, {"serve", "--config", cfg, "--listen", "127.0.0.1:0"}} {
		code, out, errOut := vipagent(t, args...)
		if code != 2 || !strings.Contains(errOut, "vips.rm-vip: nlb backend: the NLB control program is missing") {
			t.Errorf("vipagent %s: exit %d, want 2 naming the missing NLB control program\n%s%s", args[0], code, out, errOut)
		}
	}
}
