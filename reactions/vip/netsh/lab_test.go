package netsh

// What the tests share on every OS: the Go fake of netsh (the test binary
// copied as netsh.exe, see TestMain), the observer that reads a fake's
// state file, and the tests of the backend's logic that run no program.
// netsh_test.go drives shell-script fakes on Unix; netsh_windows_test.go
// drives the Go fake through Windows' own command line handling.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

func TestMain(m *testing.M) {
	viptest.RunFakes(map[string]viptest.Fake{
		"netsh":   fakeNetshProgram,
		"arping":  fakeArpingProgram,
		"sleeper": viptest.Sleeper,
	})
	os.Exit(m.Run())
}

// lab is one test's fake netsh, its log (shell fakes only) and its state.
type lab struct {
	dir, state, netsh string
	//lint:ignore U1000 the shell fakes' argv log: only netsh_test.go (not on Windows) writes and reads it.
	log string
}

// idleLab is a lab whose netsh never runs: for the tests that swap the
// observer and only verify.
func idleLab(t *testing.T) *lab {
	dir := t.TempDir()
	return &lab{dir: dir, state: filepath.Join(dir, "state"), netsh: filepath.Join(dir, "netsh.exe")}
}

// fakeNetshProgram answers `interface ipv4|ipv6 add|delete address ...`
// like netsh: nothing on success, "The object already exists." or "Element
// not found." and exit 1 otherwise. It keeps the configured addresses in
// the file "state" next to it, one "<address> preferred" line each, which
// fileObserver reads.
func fakeNetshProgram(dir string, args []string, stdout io.Writer) int {
	if len(args) < 5 || !strings.EqualFold(args[0], "interface") || !strings.EqualFold(args[3], "address") {
		fmt.Fprintf(stdout, "The following command was not found: %s.\n", strings.Join(args, " "))
		return 1
	}
	var addr string
	for _, a := range args[4:] {
		if k, v, ok := strings.Cut(a, "="); ok && strings.EqualFold(k, "address") {
			addr, _, _ = strings.Cut(v, "/")
		}
	}
	state := filepath.Join(dir, "state")
	data, err := os.ReadFile(state)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(stdout, err)
		return 1
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	at := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, addr+" ") })
	switch strings.ToLower(args[2]) {
	case "add":
		if at >= 0 {
			fmt.Fprintln(stdout, "The object already exists.")
			return 1
		}
		lines = append(lines, addr+" preferred")
	case "delete":
		if at < 0 {
			fmt.Fprintln(stdout, "Element not found.")
			return 1
		}
		lines = slices.Delete(lines, at, at+1)
	default:
		fmt.Fprintf(stdout, "The following command was not found: %s.\n", strings.Join(args, " "))
		return 1
	}
	if err := os.WriteFile(state, []byte(strings.Join(append(lines, ""), "\n")), 0o644); err != nil {
		fmt.Fprintln(stdout, err)
		return 1
	}
	return 0
}

// fakeArpingProgram says it sent its packets, and fails when a file "fail"
// lies next to it.
func fakeArpingProgram(dir string, args []string, stdout io.Writer) int {
	fmt.Fprintln(stdout, "arping: 3 packets sent")
	if _, err := os.Stat(filepath.Join(dir, "fail")); err == nil {
		return 1
	}
	return 0
}

// fileObserver reads the fake's state file: "<address> <dad state>" lines.
func fileObserver(state string) observeFunc {
	return func(ctx context.Context, ifname string, addr netip.Addr) (observation, error) {
		if err := ctx.Err(); err != nil {
			return observation{}, err
		}
		data, err := os.ReadFile(state)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return observation{}, err
		}
		o := observation{Seen: strings.TrimSpace(strings.ReplaceAll(string(data), "\n", ", "))}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) == 2 && f[0] == addr.String() {
				o.Configured = true
				o.DAD = map[string]dadState{"tentative": dadTentative, "duplicate": dadDuplicate, "preferred": dadPreferred}[f[1]]
			}
		}
		return o, nil
	}
}

func newBackend(t *testing.T, l *lab, prefix string, opts map[string]any) *Backend {
	t.Helper()
	return newBackendOn(t, l, prefix, "Ethernet 2", opts)
}

// newBackendOn is a backend for prefix on interface ifc that runs the lab's
// netsh and reads the lab's state.
func newBackendOn(t *testing.T, l *lab, prefix, ifc string, opts map[string]any) *Backend {
	t.Helper()
	raw := map[string]any{"netsh_path": l.netsh}
	for k, v := range opts {
		raw[k] = v
	}
	b, err := New(vip.Spec{Name: "rm-vip", Prefix: netip.MustParsePrefix(prefix), Interface: ifc}, raw)
	if err != nil {
		t.Fatal(err)
	}
	b.observe = fileObserver(l.state)
	return b
}

// sequenceObserver reports the address configured, with DAD states taken
// one per call from states (the last one repeats).
func sequenceObserver(states ...dadState) (observeFunc, *int) {
	n := 0
	return func(ctx context.Context, ifname string, addr netip.Addr) (observation, error) {
		i := min(n, len(states)-1)
		n++
		return observation{Configured: true, DAD: states[i], Seen: addr.String()}, nil
	}, &n
}

func TestVerifyWaitsForTentative(t *testing.T) {
	b := newBackend(t, idleLab(t), "192.0.2.10/24", nil)
	obs, n := sequenceObserver(dadTentative, dadTentative, dadTentative, dadPreferred)
	b.observe = obs
	st, err := b.Verify(viptest.Context(t, 5*time.Second), true)
	if err != nil || !st.Present {
		t.Fatalf("Verify = %+v, %v; want present", st, err)
	}
	if *n != 4 {
		t.Errorf("observed %d times, want 4 (three tentative, then preferred)", *n)
	}
	if !strings.Contains(st.Detail, "preferred") {
		t.Errorf("Detail %q does not name the DAD state", st.Detail)
	}
}

func TestVerifyFailsOnDuplicate(t *testing.T) {
	b := newBackend(t, idleLab(t), "192.0.2.10/24", nil)
	b.observe, _ = sequenceObserver(dadTentative, dadDuplicate)
	st, err := b.Verify(viptest.Context(t, 5*time.Second), true)
	if !errors.Is(err, reactions.ErrDuplicateAddress) {
		t.Fatalf("Verify error = %v, want ErrDuplicateAddress", err)
	}
	if st.Present {
		t.Errorf("Verify state = %+v, a duplicate address is not held", st)
	}
}

func TestVerifyTentativeUntilDeadline(t *testing.T) {
	b := newBackend(t, idleLab(t), "192.0.2.10/24", nil)
	b.observe, _ = sequenceObserver(dadTentative)
	_, err := b.Verify(viptest.Context(t, 350*time.Millisecond), true)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "tentative") {
		t.Fatalf("Verify error = %v, want DeadlineExceeded naming the tentative state", err)
	}
}

func TestSettled(t *testing.T) {
	tests := []struct {
		o       observation
		want    bool
		done    bool
		wantErr error
	}{
		{observation{}, true, false, nil},
		{observation{Configured: true, DAD: dadTentative}, true, false, nil},
		{observation{Configured: true, DAD: dadPreferred}, true, true, nil},
		{observation{Configured: true, DAD: dadDeprecated}, true, true, nil},
		{observation{Configured: true}, true, true, nil},
		{observation{Configured: true, DAD: dadDuplicate}, true, false, reactions.ErrDuplicateAddress},
		{observation{}, false, true, nil},
		{observation{Configured: true, DAD: dadDuplicate}, false, true, nil},
		{observation{Configured: true, DAD: dadTentative}, false, false, nil},
	}
	for _, tt := range tests {
		done, err := settled(tt.o, tt.want)
		if done != tt.done || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("settled(%+v, %v) = %v, %v; want %v, %v", tt.o, tt.want, done, err, tt.done, tt.wantErr)
		}
	}
}
