//go:build unix

package agent_test

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/reactions"
)

// A request whose caller gave up never acts: the agent is frozen
// (SIGSTOP) when `fire` and a webhook ask it to take the VIP down. `fire`
// gives up after its bound and says its request was not accepted (it
// waits for the agent's proof of identity, so it sent nothing); the
// webhook's POST, with its deadline, sits in the agent's backlog. When
// the agent wakes it journals that request as expired and the VIP stays.
func TestAbandonedRequestNeverActsAfterFreeze(t *testing.T) {
	cfg, addr := agenttest.WriteConfig(t, e2eConfig)
	p := agenttest.Start(t, binary, cfg, addr)
	if err := p.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	woken := false
	wake := func() {
		if !woken {
			woken = true
			p.Cmd.Process.Signal(syscall.SIGCONT)
		}
	}
	t.Cleanup(wake)
	start := time.Now()
	code, out, errOut := vipagent(t, "fire", "--condition", "RM1_Stopped", "--config", cfg, "--wait", "1s")
	if code != 4 || !strings.Contains(errOut, "not accepted") {
		t.Errorf("fire against a frozen agent: exit %d after %s, want 4 (not accepted)\n%s%s", code, time.Since(start), out, errOut)
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/alarms", strings.NewReader(`{"condition":"RM1_Stopped"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(api.HeaderDeadline, time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano))
	if resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a frozen agent answered the webhook: %s", resp.Status)
	}
	wake()

	var ev *reactions.Event
	var list struct{ Events []*reactions.Event }
	agenttest.Eventually(t, 10*time.Second, func() bool {
		getJSON(t, "http://"+addr+"/v1/events", &list)
		if len(list.Events) == 1 && list.Events[0].Status.Final() {
			ev = list.Events[0]
		}
		return ev != nil
	}, func() string {
		return fmt.Sprintf("the woken agent journaled %d events, none final, want the abandoned one expired", len(list.Events))
	})
	if ev.Status != reactions.StatusExpired || ev.Deadline.IsZero() {
		t.Errorf("abandoned request: %s with deadline %s, want expired", ev.Status, ev.Deadline)
	}
	var v struct {
		State *reactions.VIPState `json:"state"`
	}
	getJSON(t, "http://"+addr+"/v1/vips/rm-vip", &v)
	if v.State == nil || !v.State.Present {
		t.Errorf("rm-vip after the woken agent: %+v, want still present (the abandoned request must not act)", v.State)
	}
}
