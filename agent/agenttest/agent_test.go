package agenttest

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

func TestStartWaitsUntilReady(t *testing.T) {
	bin := RequireBinary(t, binary, binaryErr)
	cfg, addr := WriteConfig(t, SingleNode)
	a := Start(t, bin, cfg, addr)
	resp, err := http.Get(a.URL("/readyz"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz after Start: %s; want 200", resp.Status)
	}
	a.Kill()
	select {
	case <-a.Exited():
	default:
		t.Fatal("Kill returned before the process exited")
	}
	if _, err := http.Get(a.URL("/readyz")); err == nil {
		t.Error("the agent still answers after Kill")
	}
	a.Kill() // a second Kill, as the cleanup does, is harmless
}

// An agent that cannot start fails the test at once with its log, instead
// of waiting out ReadyWithin.
func TestStartReportsAnEarlyExit(t *testing.T) {
	bin := RequireBinary(t, binary, binaryErr)
	cfg, addr := WriteConfig(t, SingleNode+"no_such_key: 1\n")
	r := run(t, func(tb testing.TB) { Start(tb, bin, cfg, addr) })
	if !r.failed || !strings.Contains(r.msg, "exited before it was ready") || !strings.Contains(r.msg, "no_such_key") {
		t.Errorf("failed %v, %q; want a failure with the agent's log", r.failed, r.msg)
	}
}

// Every shared fixture is a configuration the agent accepts.
func TestFixturesPassConfigCheck(t *testing.T) {
	bin := RequireBinary(t, binary, binaryErr)
	for name, body := range map[string]string{
		"SingleNode":       SingleNode,
		"FakeVIPs":         FakeVIPs(3, "{delay: 3ms}", "{supersede: false}"),
		"FakeVIPs, no opt": FakeVIPs(1, "", "{rate_per_minute: 0}"),
	} {
		t.Run(name, func(t *testing.T) {
			cfg, _ := WriteConfig(t, body)
			if out, err := exec.Command(bin, "config", "check", "--config", cfg).CombinedOutput(); err != nil {
				t.Errorf("config check: %v\n%s\n%s", err, out, body)
			}
		})
	}
}
