//go:build linux

package ipcmd

import (
	"context"
	"errors"
	"fmt"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip"
)

// fakeTools writes recording fakes of ip and arping into a temporary
// directory. They keep the interface's addresses in a state file, log every
// invocation, and exit 99 on any invocation they do not expect.
type fakeTools struct {
	dir, log, state string
	ip, arping      string
}

func newFakeTools(t *testing.T) *fakeTools {
	t.Helper()
	dir := t.TempDir()
	f := &fakeTools{dir: dir, log: filepath.Join(dir, "log"), state: filepath.Join(dir, "state")}
	line11 := `2: vip0    inet 192.0.2.11/24 scope global vip0\       valid_lft forever preferred_lft forever`
	line100 := `2: vip0    inet 192.0.2.100/24 scope global secondary vip0\       valid_lft forever preferred_lft forever`
	if err := os.WriteFile(f.state, []byte(line11+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.ip = writeScript(t, dir, "ip", fmt.Sprintf(`echo "ip $*" >> '%[1]s'
case "$*" in
"-o addr show dev vip0") cat '%[2]s' ;;
"addr add 192.0.2.100/24 dev vip0")
	if [ -e '%[3]s/fail-add' ]; then echo "RTNETLINK answers: Operation not permitted" >&2; exit 2; fi
	grep -q 192.0.2.100/ '%[2]s' && { echo "RTNETLINK answers: File exists" >&2; exit 2; }
	echo '%[4]s' >> '%[2]s' ;;
"addr del 192.0.2.100/24 dev vip0")
	grep -q 192.0.2.100/ '%[2]s' || { echo "RTNETLINK answers: Cannot assign requested address" >&2; exit 2; }
	echo '%[5]s' > '%[2]s' ;;
*) echo "unexpected invocation: ip $*" >&2; exit 99 ;;
esac
`, f.log, f.state, dir, line100, line11))
	f.arping = writeScript(t, dir, "arping", fmt.Sprintf(`echo "arping $*" >> '%[1]s'
case "$*" in
"-D -c 1 -w 1 -I vip0 192.0.2.100")
	echo "ARPING 192.0.2.100 from 0.0.0.0 vip0"
	if [ -e '%[2]s/taken' ]; then echo "Unicast reply from 192.0.2.100 [02:00:C0:00:02:11]  0.576ms"; exit 1; fi ;;
"-U -c 1 -I vip0 192.0.2.100")
	echo "Sent 1 probes (1 broadcast(s))"
	# vanish: someone removes the VIP behind the agent's back meanwhile.
	if [ -e '%[2]s/vanish' ]; then echo '%[3]s' > '%[4]s'; fi ;;
*) echo "unexpected invocation: arping $*" >&2; exit 99 ;;
esac
`, f.log, dir, line11, f.state))
	return f
}

func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func (f *fakeTools) calls(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(f.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(f.log)
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func (f *fakeTools) backend(t *testing.T) *Backend {
	t.Helper()
	spec := vip.Spec{Name: "rm", Prefix: netip.MustParsePrefix("192.0.2.100/24"), Interface: "vip0"}
	b, err := New(spec, map[string]any{"ip_path": f.ip, "arping_path": f.arping})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCommandsRun(t *testing.T) {
	f := newFakeTools(t)
	b := f.backend(t)
	ctx := context.Background()
	type step struct {
		name      string
		do        func() error
		wantCalls []string
	}
	observe := func(want bool) func() error {
		return func() error {
			st, err := b.Observe(ctx)
			if err != nil {
				return err
			}
			if st.Present != want {
				return fmt.Errorf("present = %v, want %v (%s)", st.Present, want, st.Detail)
			}
			return nil
		}
	}
	show := "ip -o addr show dev vip0"
	announce := "arping -U -c 1 -I vip0 192.0.2.100"
	steps := []step{
		{"observe absent", observe(false), []string{show}},
		{"enable", func() error { return b.Enable(ctx, false) }, []string{
			"arping -D -c 1 -w 1 -I vip0 192.0.2.100",
			"ip addr add 192.0.2.100/24 dev vip0",
			announce, show, announce, show, announce,
		}},
		{"observe present", observe(true), []string{show}},
		// Enabling what is there: the add fails with "File exists", the
		// backend looks and finds the address, so it is success.
		{"enable again", func() error { return b.Enable(ctx, true) }, []string{"ip addr add 192.0.2.100/24 dev vip0", show, announce, show, announce, show, announce}},
		{"disable", func() error { return b.Disable(ctx) }, []string{"ip addr del 192.0.2.100/24 dev vip0"}},
		{"observe absent again", observe(false), []string{show}},
		{"disable again", func() error { return b.Disable(ctx) }, []string{"ip addr del 192.0.2.100/24 dev vip0", show}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if diff := cmp.Diff(s.wantCalls, f.calls(t)); diff != "" {
			t.Errorf("%s: invocations (-want +got):\n%s", s.name, diff)
		}
	}
}

func TestDuplicateRefused(t *testing.T) {
	f := newFakeTools(t)
	b := f.backend(t)
	if err := os.WriteFile(filepath.Join(f.dir, "taken"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := b.Enable(context.Background(), false)
	if !errors.Is(err, reactions.ErrDuplicateAddress) {
		t.Fatalf("Enable = %v, want ErrDuplicateAddress", err)
	}
	if !strings.Contains(err.Error(), "02:00:c0:00:02:11") {
		t.Errorf("error %q does not name the answering MAC", err)
	}
	if diff := cmp.Diff([]string{"arping -D -c 1 -w 1 -I vip0 192.0.2.100"}, f.calls(t)); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
	if err := b.Enable(context.Background(), true); err != nil {
		t.Fatalf("forced Enable: %v", err)
	}
	const announce, show = "arping -U -c 1 -I vip0 192.0.2.100", "ip -o addr show dev vip0"
	if diff := cmp.Diff([]string{"ip addr add 192.0.2.100/24 dev vip0", announce, show, announce, show, announce}, f.calls(t)); diff != "" {
		t.Errorf("forced: invocations (-want +got):\n%s", diff)
	}
}

// Announce only what you hold: once the address has left the interface
// (here during the first announcement), no further arping runs.
func TestAnnouncementsStopWhenAddressLeaves(t *testing.T) {
	f := newFakeTools(t)
	b := f.backend(t)
	if err := os.WriteFile(filepath.Join(f.dir, "vanish"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Enable(context.Background(), true); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	want := []string{"ip addr add 192.0.2.100/24 dev vip0", "arping -U -c 1 -I vip0 192.0.2.100", "ip -o addr show dev vip0"}
	if diff := cmp.Diff(want, f.calls(t)); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
}

func TestFailureCarriesCommand(t *testing.T) {
	f := newFakeTools(t)
	b := f.backend(t)
	if err := os.WriteFile(filepath.Join(f.dir, "fail-add"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := b.Enable(context.Background(), true)
	var ee *reactions.ExecError
	if !errors.As(err, &ee) {
		t.Fatalf("Enable = %v, want an ExecError", err)
	}
	want := reactions.Exec{
		Argv:     []string{f.ip, "addr", "add", "192.0.2.100/24", "dev", "vip0"},
		ExitCode: 2,
		Output:   "RTNETLINK answers: Operation not permitted\n",
	}
	if diff := cmp.Diff(want, ee.Exec); diff != "" {
		t.Errorf("exec (-want +got):\n%s", diff)
	}
	// No announcement for an address that is not there.
	if diff := cmp.Diff([]string{"ip addr add 192.0.2.100/24 dev vip0", "ip -o addr show dev vip0"}, f.calls(t)); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
}

// TestHungCommandKilled gives the backend an ip that never returns and has
// a child of its own: the enable ends at its deadline and nothing of it
// survives.
func TestHungCommandKilled(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild.pid")
	ip := writeScript(t, dir, "ip", fmt.Sprintf("sleep 1000 &\necho $! > '%s'\nwait\n", pidFile))
	spec := vip.Spec{Name: "rm", Prefix: netip.MustParsePrefix("192.0.2.100/24"), Interface: "vip0"}
	b, err := New(spec, map[string]any{"ip_path": ip, "arping_path": "/nonexistent/arping"})
	if err != nil {
		t.Fatal(err)
	}

	const deadline = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	err = b.Enable(ctx, true)
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enable = %v, want DeadlineExceeded", err)
	}
	var ee *reactions.ExecError
	if !errors.As(err, &ee) || len(ee.Argv) == 0 || ee.Argv[0] != ip {
		t.Errorf("Enable = %v, want an ExecError for %s", err, ip)
	}
	if elapsed > deadline+500*time.Millisecond {
		t.Errorf("Enable returned after %v, deadline %v", elapsed, deadline)
	}
	viptest.WaitGone(t, pidFile, 2*time.Second)
}
