package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vipagent/vipagent/agent/identity"
)

// Whatever listens at the agent's address gets the command's token (with
// the agent down, any local user may listen there): each command sends the
// weakest configured token it needs, never admin's for an alarm.
func TestCommandsSendTheWeakestTokenTheyNeed(t *testing.T) {
	const (
		admin   = "admin-token-0123456789"
		trigger = "trigger-token-0123456789"
		read    = "read-token-0123456789"
	)
	var mu sync.Mutex
	var got string
	var cfgPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == identity.Path {
			// The agent of this config: it proves itself, then is asked.
			answerIdentity(t, w, r, cfgPath)
			return
		}
		mu.Lock()
		got = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Unlock()
		http.Error(w, `{"error":"no","status":503}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vipagent.yaml")
	cfgPath = cfg
	body := fmt.Sprintf(`
node: rm1
listen: %s
data_dir: %s
nodes:
  rm1: {member_id: 1, host: rm1, rm_application: RM_1}
vips:
  rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake}
auth:
  tokens:
    - {token: %q, role: admin}
    - {token: %q, role: trigger}
    - {token: %q, role: read}
`, strings.TrimPrefix(srv.URL, "http://"), filepath.Join(dir, "data"), admin, trigger, read)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"fire", "--condition", "RM1_Stopped"}, trigger},
		{[]string{"failover", "disable", "1"}, trigger},
		{[]string{"events", "list"}, read},
		{[]string{"vip", "status"}, read},
		{[]string{"reports", "list"}, read},
		{[]string{"vip", "enable", "rm-vip"}, admin},
		{[]string{"reports", "retry", "r1"}, admin},
		{[]string{"replay", "e1"}, admin}, // the original may need admin
	} {
		mu.Lock()
		got = ""
		mu.Unlock()
		runCLI(t, append(append([]string{}, tt.args[0], "--config", cfg), tt.args[1:]...)...)
		mu.Lock()
		if got != tt.want {
			t.Errorf("%s sent %q, want %q", strings.Join(tt.args, " "), got, tt.want)
		}
		mu.Unlock()
	}
}
