package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/reactions"
)

// freezer stands for SIGSTOP in-process: while frozen, connections wait in
// the listener's backlog and requests on open connections wait before
// the handler; thawing lets them all in at once, as a woken process does.
type freezer struct {
	mu   sync.Mutex
	thaw chan struct{} // nil when not frozen
}

func (f *freezer) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.thaw == nil {
		f.thaw = make(chan struct{})
	}
}

func (f *freezer) wake() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.thaw != nil {
		close(f.thaw)
		f.thaw = nil
	}
}

func (f *freezer) wait() {
	f.mu.Lock()
	c := f.thaw
	f.mu.Unlock()
	if c != nil {
		<-c
	}
}

type frozenListener struct {
	net.Listener
	f *freezer
}

func (l frozenListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	l.f.wait()
	return c, err
}

// frozenStart is monStart with a freezer in front of the agent.
func frozenStart(t *testing.T, node string, ln net.Listener, addrs map[string]string, on bool, f *freezer) *monAgent {
	t.Helper()
	initial := map[bool]string{true: "present", false: "absent"}
	log := zerolog.Nop()
	m, err := Open(monConfig(t, node, addrs, false, initial[on]), Options{Logger: &log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.wait()
		m.Handler.ServeHTTP(w, r)
	}))
	srv.Listener.Close()
	srv.Listener = frozenListener{Listener: ln, f: f}
	srv.Start()
	t.Cleanup(func() {
		f.wake()
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("close %s: %v", node, err)
		}
	})
	return &monAgent{Main: m, url: srv.URL}
}

// The reported case: rm2 holds the VIP and rm1's agent is frozen. RM on
// rm1 calls `failover enable 1` and gives up at its deadline; rm2 then
// accepts a newer move asking for rm2, whose disable on rm1 waits in rm1's
// backlog too. When rm1 wakes, the abandoned request ends expired and
// never moves the VIP; the newer move holds.
func TestAbandonedFailoverAfterFreezeNeverMovesTheVIP(t *testing.T) {
	var f1, f2 freezer
	ln1, ln2 := monListen(t), monListen(t)
	addrs := map[string]string{"rm1": ln1.Addr().String(), "rm2": ln2.Addr().String()}
	rm1 := frozenStart(t, "rm1", ln1, addrs, false, &f1)
	rm2 := frozenStart(t, "rm2", ln2, addrs, true, &f2)

	f1.freeze()
	deadline := time.Now().Add(700 * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	_, err := post(ctx, rm1.url+"/v1/failover?wait=5s", map[string]any{"action": "enable", "member_id": 1}, deadline)
	cancel()
	if err == nil {
		t.Fatal("the frozen rm1 answered")
	}
	newer, err := post(context.Background(), rm2.url+"/v1/failover?wait=0s", map[string]any{"action": "enable", "member_id": 2}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// rm2's disable on rm1 waits in rm1's backlog once rm2 runs the move.
	agenttest.Eventually(t, 5*time.Second, func() bool {
		ev, err := rm2.Journal.Get(newer)
		return err == nil && ev.Status == reactions.StatusRunning
	}, "rm2 did not start its move")
	f1.wake()

	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := rm2.Engine.Wait(ctx, newer)
	if err != nil || !got.Status.Final() {
		t.Fatalf("rm2's move: %v %v", got, err)
	}
	if got.Status != reactions.StatusSucceeded {
		t.Errorf("rm2's newer move: %s", describe(got))
	}
	var abandoned *reactions.Event
	for _, ev := range monEvents(t, rm1.Main, reactions.SourceFailover) {
		abandoned = ev
	}
	if abandoned == nil {
		t.Fatal("rm1 journaled no failover event")
	}
	abandoned, err = rm1.Engine.Wait(ctx, abandoned.ID)
	if err != nil || abandoned.Status != reactions.StatusExpired {
		t.Errorf("the abandoned request on rm1: %v, %v; want expired", describe(abandoned), err)
	}
	if slices.Contains(rm1.fake(t).Calls(), "enable") {
		t.Errorf("rm1's backend was asked to enable the VIP: %v", rm1.fake(t).Calls())
	}
	if on := [2]bool{holds(t, rm1), holds(t, rm2)}; on != [2]bool{false, true} {
		t.Errorf("VIP on rm1=%v rm2=%v, want only rm2 (the newer move)", on[0], on[1])
	}
}

// post sends RM's failover call with an optional deadline and returns the
// event it was journaled as.
func post(ctx context.Context, url string, body map[string]any, deadline time.Time) (string, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+monToken)
	if !deadline.IsZero() {
		req.Header.Set(api.HeaderDeadline, deadline.UTC().Format(time.RFC3339Nano))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var res struct {
		EventID string `json:"event_id"`
	}
	err = json.Unmarshal(data, &res)
	return res.EventID, err
}
