package localchan

import (
	"context"
	"crypto/rand"
	"net"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/vipagent/vipagent/agent/config"
)

// underWine reports whether this process runs under Wine, whose ntdll
// exports wine_get_version.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// The pipe is served with the caller's account on every request, and the
// command accepts it because this account serves it.
func TestPipeNamesThePeer(t *testing.T) {
	if underWine() {
		// Wine 8 never completes the overlapped ConnectNamedPipe go-winio
		// waits on once a client has connected: the server side never
		// accepts. Only a real Windows host can run this.
		t.Skip("named pipe servers do not accept under Wine (overlapped ConnectNamedPipe never completes); run on Windows")
	}
	pipe := `\\.\pipe\vipagent-test-` + rand.Text()
	ln, err := Listen(config.Local{Socket: pipe})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan Peer, 1)
	srv := &http.Server{ConnContext: ConnContext, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := PeerOf(r.Context())
		got <- p
	})}
	go srv.Serve(ln)
	defer srv.Close()
	data := t.TempDir()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return Dial(ctx, pipe, data) }}}
	resp, err := hc.Get("http://vipagent.local/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	p := <-got
	self, err := selfSID()
	if err != nil {
		t.Fatal(err)
	}
	if p.SID != self || p.ID() != "local:"+self {
		t.Errorf("peer %+v (%s), want account %s", p, p.ID(), self)
	}
	if role, err := Authorize(p, config.Local{Socket: pipe}); role != config.RoleAdmin || err != nil {
		t.Errorf("this account on its own pipe: %q, %v; want admin", role, err)
	}
	if _, err := Authorize(Peer{SID: "S-1-5-21-1-2-3-4242"}, config.Local{Socket: pipe}); err == nil || !strings.Contains(err.Error(), "S-1-5-21-1-2-3-4242") {
		t.Errorf("an account not configured: %v", err)
	}
	if _, err := pipeSDDL(config.Local{Socket: pipe, Users: []string{"no-such-account-vipagent"}}); err == nil {
		t.Errorf("an unknown account in local.users was accepted")
	}
	if s, err := pipeSDDL(config.Local{Socket: pipe, Groups: []string{"S-1-5-32-545"}}); err != nil || !strings.HasSuffix(s, "(A;;GRGW;;;S-1-5-32-545)") || !strings.HasPrefix(s, "D:P(A;;GA;;;SY)(A;;GA;;;BA)") {
		t.Errorf("pipeSDDL: %q, %v", s, err)
	}
}
