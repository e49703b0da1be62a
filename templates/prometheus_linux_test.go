// promtool is a Linux program here (Debian's prometheus package): the Linux test
// run checks the rules; the windows run has nothing to run it with.

package templates_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// The shipped rules load, and their unit tests (every alert firing and not
// firing) pass.
func TestPrometheusRules(t *testing.T) {
	promtool := agenttest.RequireProgram(t, "promtool", "prometheus")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"check rules", []string{"check", "rules", "vipagent-rules.yml"}, "SUCCESS: 10 rules found"},
		{"test rules", []string{"test", "rules", "vipagent-rules_test.yml"}, "SUCCESS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), promtool, tt.args...)
			cmd.Dir = "prometheus"
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("promtool %s: %v\n%s", strings.Join(tt.args, " "), err, out)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("promtool %s: output lacks %q:\n%s", strings.Join(tt.args, " "), tt.want, out)
			}
		})
	}
}
