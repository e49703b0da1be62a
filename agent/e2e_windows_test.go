package agent_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/reactions"
)

// backendBat is a stand-in for a site's own IPTakeOver.bat, as the script
// backend runs it: it keeps the VIP's state in a flag file and logs its
// arguments.
const backendBat = `@echo off
echo %*>> "%~dp0calls.txt"
if "%1"=="enable" goto enable
if "%1"=="disable" goto disable
if "%1"=="observe" goto observe
exit /b 2
:enable
echo present> "%~dp0present.flag"
exit /b 0
:disable
if exist "%~dp0present.flag" del "%~dp0present.flag"
exit /b 0
:observe
if exist "%~dp0present.flag" exit /b 0
exit /b 1
`

// windowsConfig is rm2 of a pair whose rm1 never answers (a dead host):
// the moves to rm2 go on under vip_released.
const windowsConfig = `
node: rm2
listen: %[1]s
data_dir: '%[2]s'
nodes:
  rm1: {member_id: 1, url: 'http://127.0.0.1:1', token: 'peer-token-0123456789', host: rm1, rm_application: RM_1, nics: [00-0F-1F-6D-EB-C1]}
  rm2: {member_id: 2, host: rm2, rm_application: RM_2, nics: [00-0F-1F-6D-EB-C2]}
vips:
  rm-vip:
    address: 192.0.2.100/24
    interface: 'Local Area Connection 2'
    backend: script
    options:
      enable: ['%[3]s', enable, '${address}', '${interface}']
      disable: ['%[3]s', disable, '${address}']
      observe: ['%[3]s', observe]
reactions:
  - name: rm1-stopped
    match: {condition: [RM1_Stopped, RM1_Unexpected_Stop]}
    steps:
      - {disable: rm-vip, on: rm1, when: [always]}
      - {enable: rm-vip, when: [vip_released]}
failover: {vips: [rm-vip]}
log: {format: json}
`

// vipagent.exe end to end, as LCA, SCS and RM run it on a Windows host: an
// install directory and a journal under paths with spaces, the script
// backend running a .bat through cmd.exe, fire with LCA's one-dash
// arguments, RM's failover hook through the shipped .bat wrappers, and a
// TerminateProcess after which a restart finds every accepted event.
func TestWindowsEndToEnd(t *testing.T) {
	root := filepath.Join(t.TempDir(), "Program Files", "GCTI vipagent")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(root, "vipagent.exe")
	copyFile(t, binary, exe, 0o755)
	bat := filepath.Join(root, "IPTakeOver-backend.bat")
	if err := os.WriteFile(bat, []byte(strings.ReplaceAll(backendBat, "\n", "\r\n")), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"IPTakeOver.bat", "NLB.bat"} {
		copyFile(t, filepath.Join("..", "scripts", w), filepath.Join(root, w), 0o755)
	}
	addr := agenttest.FreeAddr(t)
	cfg := filepath.Join(root, "vipagent.yaml")
	body := fmt.Sprintf(windowsConfig, addr, filepath.Join(root, "data dir"), bat)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		t.Helper()
		return exitOf(t, root, exe, args...)
	}
	if code, out := run("config", "check", "--config", cfg); code != 0 {
		t.Fatalf("config check: exit %d\n%s", code, out)
	}
	terminate := serveWindows(t, exe, cfg, addr)

	// An SCS alarm reaction, with the arguments LCA adds.
	code, out := run("-host", "rm2host", "-port", "4999", "-app", "VIPAgent_RM1_Stopped", "fire", "--condition", "RM1_Stopped", "--config", cfg, "--json")
	var res reactions.Result
	if err := jsonFrom(out, &res); code != 0 || err != nil || len(res.Steps) != 2 || res.Steps[1].Outcome != reactions.OutcomeChanged {
		t.Fatalf("fire: exit %d (%v)\n%s", code, err, out)
	}
	var ev reactions.Event
	getJSON(t, "http://"+addr+"/v1/events/"+res.EventID, &ev)
	if ev.GenesysArgs["app"] != "VIPAgent_RM1_Stopped" || ev.GenesysArgs["host"] != "rm2host" {
		t.Errorf("LCA's arguments not journaled: %v", ev.GenesysArgs)
	}

	// RM's failoverscript, through the shipped wrappers and cmd.exe.
	hook := func(wrapper string, args ...string) (int, string) {
		t.Helper()
		return exitOf(t, root, cmdExe(), append([]string{"/d", "/c", filepath.Join(root, wrapper)}, args...)...)
	}
	if code, out := hook("IPTakeOver.bat", "disable", "2"); code != 0 || !strings.Contains(out, "disable rm-vip on rm2 [script]: changed") {
		t.Errorf("IPTakeOver.bat disable 2: exit %d\n%s", code, out)
	}
	if code, out := hook("NLB.bat", "enable", "2", "extra-from-RM"); code != 0 || !strings.Contains(out, "enable rm-vip on rm2 [script]: changed") {
		t.Errorf("NLB.bat enable 2: exit %d\n%s", code, out)
	}
	if code, out := hook("IPTakeOver.bat", "enable", "x"); code != 2 {
		t.Errorf("IPTakeOver.bat enable x: exit %d, want 2\n%s", code, out)
	}
	calls, _ := os.ReadFile(filepath.Join(root, "calls.txt"))
	for _, want := range []string{"enable 192.0.2.100/24 \"Local Area Connection 2\"", "disable 192.0.2.100/24"} {
		if !strings.Contains(string(calls), want) {
			t.Errorf("the backend script never saw %q:\n%s", want, calls)
		}
	}

	// Accepted, then TerminateProcess: a restart finds every event and
	// finishes it.
	var ids []string
	for i := range 5 {
		resp, err := http.Post("http://"+addr+"/v1/alarms?wait=0s", "application/json",
			strings.NewReader(fmt.Sprintf(`{"id":"kill-%d","condition":"RM1_Unexpected_Stop"}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var acc struct {
			EventID string `json:"event_id"`
		}
		if err := jsonFrom(string(data), &acc); err != nil || acc.EventID == "" {
			t.Fatalf("alarm %d: %d %s", i, resp.StatusCode, data)
		}
		ids = append(ids, acc.EventID)
	}
	terminate()
	serveWindows(t, exe, cfg, addr)
	for id, ev := range waitFinal(t, addr, ids) {
		if ev.Result == nil {
			t.Errorf("event %s: %s without a result", id, ev.Status)
		}
	}
}

// serveWindows starts `vipagent.exe serve` from its installation
// directory, as LCA does, waits until it is ready and returns what ends
// it: TerminateProcess, as LCA stops a Third Party Server, and waiting for
// the process to be gone.
func serveWindows(t *testing.T, exe, cfg, addr string) (terminate func()) {
	t.Helper()
	cmd := exec.Command(exe, "serve", "--config", cfg)
	cmd.Dir = filepath.Dir(exe)
	a := agenttest.StartCmd(t, cmd, addr)
	return func() {
		a.Kill()
		// Connections kept alive to the process that is gone are not
		// always reset under Wine: never reuse them.
		bounded.CloseIdleConnections()
		http.DefaultClient.CloseIdleConnections()
	}
}

// exitOf runs a program in dir and returns its exit code and output.
func exitOf(t *testing.T, dir, program string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(program, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

func cmdExe() string {
	if c := os.Getenv("ComSpec"); c != "" {
		return c
	}
	return filepath.Join(os.Getenv("SystemRoot"), "System32", "cmd.exe")
}

// jsonFrom decodes the first JSON object in out (a command's output may
// carry log lines before it).
func jsonFrom(out string, v any) error {
	i := strings.Index(out, "{")
	if i < 0 {
		return fmt.Errorf("no JSON in %q", out)
	}
	return json.NewDecoder(strings.NewReader(out[i:])).Decode(v)
}
