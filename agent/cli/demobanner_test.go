package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/config"
)

// Without --config and without a file at the standard path, a command runs
// on the built-in demo config and says so on stderr; a command that talks
// to the agent named with --agent does not, since that agent acts.
func TestDemoBanner(t *testing.T) {
	if _, err := os.Lstat(config.StandardPath()); err == nil {
		t.Skipf("%s exists on this host: commands without --config use it", config.StandardPath())
	}
	code, out, errOut := runCLI(t, "config", "check")
	if code != 0 || !strings.Contains(out, "built-in configuration: ok") {
		t.Fatalf("config check: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "DEMO config: nothing on this host changes") {
		t.Errorf("config check on the built-in config: no DEMO banner on stderr:\n%s", errOut)
	}
	_, out, errOut = runCLI(t, "vip", "status", "--agent", "http://"+closedAddr(t), "--wait", "1s")
	if strings.Contains(out+errOut, "DEMO config") {
		t.Errorf("vip status --agent printed the DEMO banner:\n%s%s", out, errOut)
	}
	code, out, errOut = runCLI(t, "config", "check", "--config", writeHookConfig(t))
	if strings.Contains(out+errOut, "DEMO config") {
		t.Errorf("config check --config printed the DEMO banner (exit %d):\n%s%s", code, out, errOut)
	}
}
