package agenttest

import (
	"net/http"
	"strings"
	"testing"
)

const minimalConfig = `
node: rm1
listen: %s
data_dir: %s
nodes:
  rm1: {member_id: 1, host: rm1, rm_application: RM_1}
vips:
  rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake}
`

func TestStartWaitsUntilReady(t *testing.T) {
	bin := RequireBinary(t, binary, binaryErr)
	cfg, addr := WriteConfig(t, minimalConfig)
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
	cfg, addr := WriteConfig(t, minimalConfig+"no_such_key: 1\n")
	r := run(t, func(tb testing.TB) { Start(tb, bin, cfg, addr) })
	if !r.failed || !strings.Contains(r.msg, "exited before it was ready") || !strings.Contains(r.msg, "no_such_key") {
		t.Errorf("failed %v, %q; want a failure with the agent's log", r.failed, r.msg)
	}
}
