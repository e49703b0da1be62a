package agent

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/agent/reconcile"
	"github.com/vipagent/vipagent/reactions"
)

// monFailover POSTs a failover call to a's agent, as RM's failoverscript
// (or INIT.bat) does through the CLI, and waits for its result.
func monFailover(t *testing.T, a *monAgent, body string) *reactions.Event {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.url+"/v1/failover?wait=10s", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+monToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var res struct {
		EventID string `json:"event_id"`
	}
	if err := json.Unmarshal(b, &res); err != nil || res.EventID == "" {
		t.Fatalf("failover %s on %s: %s: %s", body, a.Config.Node, resp.Status, b)
	}
	return monWait(t, a.Main, res.EventID)
}

// INIT on both nodes ("none until RM elects"), with two real agents and
// auto_fix: after `failover disable` on rm1 and then on rm2, reconcile's
// passes (as many as the scheduler runs in minutes) journal nothing and
// never put the VIP back on its owner rm1. `failover enable 2` (RM
// elected) then resumes the normal repair: the VIP removed behind the
// agents' back comes back on rm2.
func TestReconcileHonoursInitOnBothNodes(t *testing.T) {
	rm1, rm2 := monPair(t, true, true, false)
	r1, r2 := rm1.newReconciler(), rm2.newReconciler()
	for _, a := range []*monAgent{rm1, rm2} {
		if ev := monFailover(t, a, `{"action":"disable"}`); ev.Status != reactions.StatusSucceeded {
			t.Fatalf("failover disable on %s: %s", a.Config.Node, ev.Status)
		}
	}
	monSettled(t, rm1, rm2)
	for range 6 {
		for _, r := range []*reconcile.Reconciler{r1, r2} {
			if st := monRun(t, r); st.Kind != reconcile.KindReleased || st.EventID != "" {
				t.Fatalf("after INIT on both: %+v, want released with nothing journaled", st)
			}
		}
	}
	if diff := cmp.Diff([]string{"disable"}, rm1.fake(t).Calls()); diff != "" {
		t.Errorf("rm1 backend calls (-want +got):\n%s", diff)
	}
	if calls := rm2.fake(t).Calls(); len(calls) != 0 {
		t.Errorf("rm2 backend calls %v, want none (it never held the VIP)", calls)
	}
	for _, a := range []*monAgent{rm1, rm2} {
		if n := len(monEvents(t, a.Main, reactions.SourceReconcile)); n != 0 {
			t.Errorf("%s journaled %d drift events for a VIP released on purpose", a.Config.Node, n)
		}
	}

	if ev := monFailover(t, rm2, `{"action":"enable","member_id":2}`); ev.Status != reactions.StatusSucceeded {
		t.Fatalf("failover enable 2: %s", ev.Status)
	}
	if err := rm2.fake(t).Set(false); err != nil {
		t.Fatal(err)
	}
	monSettled(t, rm1, rm2)
	monRun(t, r2)
	st := monRun(t, r2)
	if st.Kind != reconcile.KindNone || st.Owner != "rm2" || st.EventID == "" {
		t.Fatalf("after the enable and the VIP gone: %+v, want none repaired towards rm2", st)
	}
	if ev := monWait(t, rm2.Main, st.EventID); ev.Status != reactions.StatusSucceeded {
		t.Errorf("repair %s: %s", ev.ID, ev.Status)
	}
	for _, c := range []struct {
		a    *monAgent
		want bool
	}{{rm1, false}, {rm2, true}} {
		got, err := c.a.fake(t).Observe(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got.Present != c.want {
			t.Errorf("%s: vip present %v, want %v", c.a.Config.Node, got.Present, c.want)
		}
	}
}
