package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
)

// `events list` follows the agent's cursor until it has --limit events,
// even when the agent sends shorter pages than asked (a status filter's
// bounded scan), and says how to go on.
func TestEventsListFollowsTheCursor(t *testing.T) {
	const total, page = 7, 3
	var mu sync.Mutex
	var asked []string
	// A loopback agent without secrets: it proves nothing, its claims
	// (node, data directory, config digest) are still compared.
	cfg := filepath.Join(t.TempDir(), "vipagent.yaml")
	noAuth := fmt.Sprintf("node: rm1\nlisten: %s\ndata_dir: %s\nnodes: {rm1: {member_id: 1}}\n", closedAddr(t), filepath.Join(filepath.Dir(cfg), "data"))
	if err := os.WriteFile(cfg, []byte(noAuth), 0o600); err != nil {
		t.Fatal(err)
	}
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/identity" {
			answerIdentity(t, w, r, cfg)
			return
		}
		if r.URL.Path != "/v1/events" {
			http.Error(w, `{"error":"not here"}`, http.StatusNotFound)
			return
		}
		mu.Lock()
		asked = append(asked, r.URL.RawQuery)
		mu.Unlock()
		from := total
		if c := r.URL.Query().Get("cursor"); c != "" {
			from, _ = strconv.Atoi(c)
		}
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		var evs []reactions.Event
		n := from
		for ; n > 0 && len(evs) < min(limit, page); n-- {
			evs = append(evs, reactions.Event{ID: fmt.Sprintf("ev-%d", n), Status: reactions.StatusSucceeded, Alarm: reactions.Alarm{Condition: "c"}})
		}
		next := ""
		if n > 0 {
			next = strconv.Itoa(n)
		}
		json.NewEncoder(w).Encode(map[string]any{"events": evs, "next_cursor": next})
	}))
	defer agent.Close()
	code, out, errOut := runCLI(t, "events", "list", "--limit", "5", "--agent", agent.URL, "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	var got []string
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "ev-") {
			got = append(got, f)
		}
	}
	if diff := cmp.Diff([]string{"ev-7", "ev-6", "ev-5", "ev-4", "ev-3"}, got); diff != "" {
		t.Errorf("events listed (-want +got):\n%s\n%s", diff, out)
	}
	if !strings.Contains(out, "more: vipagent events list --cursor 2") {
		t.Errorf("no hint to go on after ev-3:\n%s", out)
	}
	if diff := cmp.Diff([]string{"limit=5", "cursor=4&limit=2"}, asked); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	code, out, errOut = runCLI(t, "events", "list", "--limit", "50", "--json", "--agent", agent.URL, "--config", cfg)
	var list struct {
		Events []reactions.Event `json:"events"`
		Next   string            `json:"next_cursor"`
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Events) != total || list.Next != "" {
		t.Errorf("--json: exit %d, %v, %d events, next %q: %s %s", code, err, len(list.Events), list.Next, out, errOut)
	}
}
