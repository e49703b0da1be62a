package localchan

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/config"
)

func TestAuthorize(t *testing.T) {
	l := config.Local{Socket: "/run/vipagent/vipagent.sock", Users: []string{"4242", "root"}, Groups: []string{"7777"}, Role: config.RoleRead}
	if !privileged(Peer{UID: 0}) || !privileged(Peer{UID: uint32(os.Geteuid())}) || privileged(Peer{UID: 5555}) {
		t.Errorf("root and this account are privileged, uid 5555 is not")
	}
	for _, tt := range []struct {
		p    Peer
		priv bool
		role string
	}{
		{Peer{UID: 1000, GID: 5}, true, config.RoleAdmin},
		{Peer{UID: 4242, GID: 5}, false, config.RoleRead},
		{Peer{UID: 0, GID: 5}, false, config.RoleRead},       // "root" by name
		{Peer{UID: 5555, GID: 7777}, false, config.RoleRead}, // by primary group
		{Peer{UID: 5555, GID: 5}, false, ""},
	} {
		role, err := authorize(tt.p, l, tt.priv)
		if role != tt.role || (tt.role == "") != (err != nil) {
			t.Errorf("Authorize(%+v) = %q, %v; want %q", tt.p, role, err, tt.role)
		}
		if err != nil && !strings.Contains(err.Error(), "uid 5555") {
			t.Errorf("the refusal does not name the account: %v", err)
		}
	}
}

// The socket is served with the kernel's name of the caller on every
// request; a directory others may write is refused by both sides.
func TestListenNamesThePeer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	sock := filepath.Join(dir, "vipagent.sock")
	ln, err := Listen(config.Local{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o750 {
		t.Errorf("socket directory: %v %v, want mode 0750", st, err)
	}
	got := make(chan Peer, 1)
	srv := &http.Server{ConnContext: ConnContext, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := PeerOf(r.Context())
		got <- p
	})}
	go srv.Serve(ln)
	defer srv.Close()
	data := t.TempDir()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return Dial(ctx, sock, data) }}}
	resp, err := hc.Get("http://vipagent.local/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if p := <-got; p.UID != uint32(os.Geteuid()) || p.PID != int32(os.Getpid()) {
		t.Errorf("peer %+v, want uid %d pid %d", p, os.Geteuid(), os.Getpid())
	}
	os.Chmod(dir, 0o770)
	if err := CheckPath(sock, t.TempDir()); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Errorf("CheckPath with the directory group-writable: %v", err)
	}
	os.Chmod(dir, 0o750)
	os.Chmod(filepath.Dir(dir), 0o777)
	if err := CheckPath(sock, t.TempDir()); err == nil || !strings.Contains(err.Error(), "without the sticky bit") {
		t.Errorf("CheckPath with a parent anyone may write: %v", err)
	}
	os.Chmod(filepath.Dir(dir), 0o700)
	// Something that is not a socket at the path is never replaced.
	ln.Close()
	os.WriteFile(sock, []byte("x"), 0o600)
	if _, err := Listen(config.Local{Socket: sock}); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Listen over a regular file: %v", err)
	}
}
