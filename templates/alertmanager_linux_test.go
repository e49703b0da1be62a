// amtool is a Linux program here (Debian's prometheus-alertmanager package).

package templates_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// The Alertmanager example loads, and routes what it says it routes: an
// alert with a condition to vipagent, vipagent's own alerts to people.
func TestAlertmanagerReceiver(t *testing.T) {
	amtool := agenttest.RequireProgram(t, "amtool", "prometheus-alertmanager")
	const file = "alertmanager/alertmanager.yml"
	out, err := exec.CommandContext(t.Context(), amtool, "check-config", file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("amtool check-config %s: %v\n%s", file, err, out)
	}
	for _, tt := range []struct {
		labels []string
		want   string
	}{
		{[]string{"condition=RM1_Stopped", "instance=rm1:9100"}, "vipagent"},
		{[]string{"alertname=VIPOnNoNode", "vip=rm-vip", "severity=critical"}, "on-call"},
		{[]string{"alertname=VipagentDown", "severity=critical"}, "on-call"},
	} {
		args := append([]string{"config", "routes", "test", "--config.file=" + file}, tt.labels...)
		out, err := exec.CommandContext(t.Context(), amtool, args...).Output()
		if err != nil {
			t.Fatalf("amtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if got := strings.TrimSpace(string(out)); got != tt.want {
			t.Errorf("%v routes to %q, want %q", tt.labels, got, tt.want)
		}
	}
}
