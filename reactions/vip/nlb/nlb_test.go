//go:build unix

package nlb

// The fake nlb here is a bash script that logs its argv, keeps the host's
// state in a file and prints the English messages of Windows' NLB control
// program. Like that program (the Windows Server 2003 source returns
// CVY_OK = 1 after every processed command), it exits 1 whether or not the
// command worked, which the backend must not take for a failure.

import (
	"context"
	"errors"
	"fmt"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip"
)

// fakeNLB: start moves stopped to converging; query of a converging host
// answers converging once, then converged as DEFAULT; drainstop moves to
// draining, which a query answers once before the host is stopped. The
// file "others" lists the other hosts the cluster converged with.
const fakeNLB = `#!/bin/bash
{ for a in "$@"; do printf '%s\n' "$a"; done; printf -- '--\n'; } >> "$DIR/argv.log"
state=$(cat "$DIR/state" 2>/dev/null || echo stopped)
members=1; others=$(cat "$DIR/others" 2>/dev/null); [ -n "$others" ] && members="1, $others"
echo "WLBS Cluster Control Utility V2.4 (c) 1997-2003 Microsoft Corporation."
case "$1" in
start)
	if [ "$state" = stopped ]; then echo converging > "$DIR/state"; echo "Cluster operations started."
	else echo "Cluster operations already started."; fi ;;
enable)
	if [ "$state" = stopped ]; then echo "Cannot modify traffic handling because cluster operations are stopped."
	else echo "Traffic handling for specified port rule(s) enabled."; fi ;;
drainstop) echo draining > "$DIR/state"; echo "Connection draining started." ;;
stop) echo stopped > "$DIR/state"; echo "Cluster operations stopped." ;;
query)
	echo "Cluster $2"
	case "$state" in
	converging) echo "Host 1 has entered a converging state 2 time(s) since its last reboot."
		echo "Host 1 converging with the following host(s) as part of the cluster:"; echo "$members"
		echo default > "$DIR/state" ;;
	default) echo "Host 1 has entered a converging state 3 time(s) since its last reboot."
		echo "Host 1 converged as DEFAULT with the following host(s) as part of the cluster:"; echo "$members" ;;
	draining) echo "Host 1 draining connections with the following host(s) as part of the cluster:"; echo "$members"
		echo stopped > "$DIR/state" ;;
	stopped) echo "Host 1 is stopped and does not know convergence state of the cluster." ;;
	esac ;;
*) echo "Usage: ..."; exit 255 ;;
esac
exit 1
`

var spec = vip.Spec{Name: "rm-vip", Prefix: netip.MustParsePrefix("192.0.2.10/24"), Interface: "Ethernet 2"}

func newFake(t *testing.T, body, state string, opts map[string]any) (*Backend, string) {
	t.Helper()
	dir := t.TempDir()
	p := viptest.Write(t, dir, "nlb", body)
	if state != "" {
		if err := os.WriteFile(filepath.Join(dir, "state"), []byte(state+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw := map[string]any{"program": p}
	for k, v := range opts {
		raw[k] = v
	}
	b, err := New(spec, raw)
	if err != nil {
		t.Fatal(err)
	}
	return b, dir
}

func TestMoveInAndOut(t *testing.T) {
	tests := []struct {
		name        string
		opts        map[string]any
		wantEnable  [][]string
		wantDisable [][]string
	}{
		{
			name: "defaults",
			wantEnable: [][]string{
				{"start", "192.0.2.10", "local"},
				{"enable", "all", "192.0.2.10", "local"},
				{"query", "192.0.2.10", "local"},
				{"query", "192.0.2.10", "local"},
			},
			wantDisable: [][]string{
				{"drainstop", "192.0.2.10", "local"},
				{"query", "192.0.2.10", "local"},
				{"query", "192.0.2.10", "local"},
			},
		},
		{
			name: "port, cluster and stop",
			opts: map[string]any{"port": "5060", "cluster": "198.51.100.20", "disable_mode": "stop"},
			wantEnable: [][]string{
				{"start", "198.51.100.20", "local"},
				{"enable", "5060", "198.51.100.20", "local"},
				{"query", "198.51.100.20", "local"},
				{"query", "198.51.100.20", "local"},
			},
			wantDisable: [][]string{
				{"stop", "198.51.100.20", "local"},
				{"query", "198.51.100.20", "local"},
				{"query", "198.51.100.20", "local"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, dir := newFake(t, fakeNLB, "stopped", tt.opts)
			log := filepath.Join(dir, "argv.log")
			ctx := viptest.Context(t, 10*time.Second)

			if err := b.Enable(ctx, false); err != nil {
				t.Fatalf("Enable: %v", err)
			}
			st, err := b.Verify(ctx, true)
			if err != nil || !st.Present || !strings.Contains(st.Detail, "converged as DEFAULT") {
				t.Fatalf("Verify(true) = %+v, %v; want present, converged as DEFAULT", st, err)
			}
			if diff := cmp.Diff(tt.wantEnable, viptest.Calls(t, log)); diff != "" {
				t.Errorf("enable calls (-want +got):\n%s", diff)
			}
			if err := os.Remove(log); err != nil {
				t.Fatal(err)
			}

			if err := b.Disable(ctx); err != nil {
				t.Fatalf("Disable: %v", err)
			}
			st, err = b.Verify(ctx, false)
			if err != nil || st.Present {
				t.Fatalf("Verify(false) = %+v, %v; want absent", st, err)
			}
			if diff := cmp.Diff(tt.wantDisable, viptest.Calls(t, log)); diff != "" {
				t.Errorf("disable calls (-want +got):\n%s", diff)
			}
		})
	}
}

// The engine observes first; when this host already takes traffic nothing
// but the query runs.
func TestObserveOnlyQueries(t *testing.T) {
	b, dir := newFake(t, fakeNLB, "default", nil)
	st, err := b.Observe(viptest.Context(t, 5*time.Second))
	if err != nil || !st.Present {
		t.Fatalf("Observe = %+v, %v; want present", st, err)
	}
	if diff := cmp.Diff([][]string{{"query", "192.0.2.10", "local"}}, viptest.Calls(t, filepath.Join(dir, "argv.log"))); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// A control program that answers with something the backend cannot read
// (an error, another language) fails with its argv, exit code and output.
func TestUnreadableOutput(t *testing.T) {
	b, _ := newFake(t, "#!/bin/bash\necho 'NLB ist auf diesem System nicht installiert.'\nexit 1\n", "", nil)
	_, err := b.Observe(viptest.Context(t, 5*time.Second))
	var ee *reactions.ExecError
	if !errors.As(err, &ee) || !errors.Is(err, errUnrecognised) {
		t.Fatalf("Observe error = %v, want an ExecError wrapping errUnrecognised", err)
	}
	want := reactions.Exec{Argv: []string{b.program, "query", "192.0.2.10", "local"}, ExitCode: 1, Output: "NLB ist auf diesem System nicht installiert.\n"}
	if diff := cmp.Diff(want, ee.Exec); diff != "" {
		t.Errorf("ExecError (-want +got):\n%s", diff)
	}
}

// start that does not take (the host stays stopped) fails the enable with
// the enable command's argv and output.
func TestEnableThatDoesNotTake(t *testing.T) {
	body := strings.Replace(fakeNLB, `echo converging > "$DIR/state"; echo "Cluster operations started."`, `echo "Cluster mode cannot be started: bad parameters."`, 1)
	b, _ := newFake(t, body, "stopped", nil)
	err := b.Enable(viptest.Context(t, 5*time.Second), false)
	var ee *reactions.ExecError
	if !errors.As(err, &ee) {
		t.Fatalf("Enable error = %v, want *reactions.ExecError", err)
	}
	want := reactions.Exec{
		Argv:     []string{b.program, "enable", "all", "192.0.2.10", "local"},
		ExitCode: 1,
		Output:   "WLBS Cluster Control Utility V2.4 (c) 1997-2003 Microsoft Corporation.\nCannot modify traffic handling because cluster operations are stopped.\n",
	}
	if diff := cmp.Diff(want, ee.Exec); diff != "" {
		t.Errorf("ExecError (-want +got):\n%s", diff)
	}
	if !strings.Contains(err.Error(), "is stopped after") {
		t.Errorf("error %q does not say the host stayed stopped", err)
	}
}

// wlbs hangs when a peer's NIC is unreachable: the step deadline ends it
// and everything it started.
func TestHangingQueryIsKilledAtTheDeadline(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	b, _ := newFake(t, "#!/bin/bash\nsleep 300 &\necho $! > "+pidFile+"\nwait\n", "", nil)
	start := time.Now()
	_, err := b.Observe(viptest.Context(t, 300*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Observe error = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Observe returned after %v, want soon after the 300ms deadline", d)
	}
	viptest.WaitGone(t, pidFile, 3*time.Second)
}

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name string
		raw  map[string]any
	}{
		{name: "relative program", raw: map[string]any{"program": "tools/nlb.exe"}},
		{name: "bad port", raw: map[string]any{"program": "/x/nlb", "port": "http"}},
		{name: "port out of range", raw: map[string]any{"program": "/x/nlb", "port": "70000"}},
		{name: "cluster with host part", raw: map[string]any{"program": "/x/nlb", "cluster": "192.0.2.10:2"}},
		{name: "cluster switch", raw: map[string]any{"program": "/x/nlb", "cluster": "/PASSW"}},
		{name: "disable mode disable", raw: map[string]any{"program": "/x/nlb", "disable_mode": "disable"}},
		{name: "unknown disable mode", raw: map[string]any{"program": "/x/nlb", "disable_mode": "drain"}},
		{name: "unknown option", raw: map[string]any{"program": "/x/nlb", "passw": "secret"}},
		{name: "system nlb off windows", raw: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(spec, tt.raw); err == nil {
				t.Fatalf("New accepted %v", tt.raw)
			}
		})
	}
}

// stopperFunc is a PeerStopper made of a function: the other host's agent.
type stopperFunc func(ctx context.Context, hostID int) error

func (f stopperFunc) StopHost(ctx context.Context, hostID int) error { return f(ctx, hostID) }

// An enable succeeds only with this host alone in the cluster's converged
// list. Another host listed is stopped through its agent; when that cannot
// be done, or the cluster still lists it after its agent said it stopped,
// the enable fails with ErrBothConverged and this host stops again.
func TestOneConvergedHost(t *testing.T) {
	tests := []struct {
		name      string
		stopper   func(dir string) PeerStopper // nil: no peers wired
		wantErr   string                       // "" = success
		wantAsked []int
	}{
		{
			name: "the other host's agent stops it",
			stopper: func(dir string) PeerStopper {
				return stopperFunc(func(ctx context.Context, id int) error {
					return os.Remove(filepath.Join(dir, "others"))
				})
			},
			wantAsked: []int{2},
		},
		{
			name:    "no agent to ask",
			wantErr: "both hosts converged in nlb cluster 192.0.2.10: this host 1 converged as DEFAULT, cluster members 1, 2; no agent to stop it through; this host was stopped again (drainstop) so that host(s) 2 keep the cluster",
		},
		{
			name: "the other host's agent is unreachable",
			stopper: func(dir string) PeerStopper {
				return stopperFunc(func(ctx context.Context, id int) error {
					return fmt.Errorf("node rm2 at http://198.51.100.2:8470: %w: connection refused", reactions.ErrUnreachable)
				})
			},
			wantErr:   "both hosts converged in nlb cluster 192.0.2.10: this host 1 converged as DEFAULT, cluster members 1, 2; stopping host 2 through its agent: node rm2 at http://198.51.100.2:8470: node unreachable: connection refused; this host was stopped again (drainstop) so that host(s) 2 keep the cluster",
			wantAsked: []int{2},
		},
		{
			// Its agent says it stopped; NLB still lists it. The cluster's
			// view wins.
			name: "the cluster still lists the other host",
			stopper: func(dir string) PeerStopper {
				return stopperFunc(func(ctx context.Context, id int) error { return nil })
			},
			wantErr:   "both hosts converged in nlb cluster 192.0.2.10: this host 1 converged as DEFAULT, cluster members 1, 2; *context deadline exceeded*; this host was stopped again (drainstop) so that host(s) 2 keep the cluster",
			wantAsked: []int{2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, dir := newFake(t, fakeNLB, "stopped", nil)
			if err := os.WriteFile(filepath.Join(dir, "others"), []byte("2\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			var asked []int
			if tt.stopper != nil {
				s := tt.stopper(dir)
				b.StopOthersWith(stopperFunc(func(ctx context.Context, id int) error {
					asked = append(asked, id)
					return s.StopHost(ctx, id)
				}))
			}
			// Short only where the test waits for the deadline: a loaded
			// machine runs the fake slowly.
			d := 20 * time.Second
			if strings.Contains(tt.name, "still lists") {
				d = 2 * time.Second
			}
			ctx := viptest.Context(t, d)
			if err := b.Enable(ctx, false); err != nil {
				t.Fatalf("Enable: %v", err)
			}
			st, err := b.Verify(ctx, true)
			if diff := cmp.Diff(tt.wantAsked, asked); diff != "" {
				t.Errorf("hosts asked to stop (-want +got):\n%s", diff)
			}
			if tt.wantErr == "" {
				if err != nil || !st.Present || st.Holders != 1 {
					t.Fatalf("Verify(true) = %+v, %v; want present, one holder", st, err)
				}
				return
			}
			if !errors.Is(err, ErrBothConverged) || !matches(tt.wantErr, err.Error()) {
				t.Fatalf("Verify(true) error = %v\nwant %s", err, tt.wantErr)
			}
			if st.Present {
				t.Errorf("after the failed enable this host is %+v, want stopped again", st)
			}
			calls := viptest.Calls(t, filepath.Join(dir, "argv.log"))
			if undo := calls[len(calls)-3]; !slices.Equal(undo, []string{"drainstop", "192.0.2.10", "local"}) {
				t.Errorf("calls %q: want drainstop, then the queries that checked it", calls)
			}
		})
	}
}

// Observe counts the cluster's converged hosts for the holder metric, also
// those whose agent says nothing.
func TestObserveCountsHolders(t *testing.T) {
	b, dir := newFake(t, fakeNLB, "default", nil)
	if err := os.WriteFile(filepath.Join(dir, "others"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := b.Observe(viptest.Context(t, 5*time.Second))
	if err != nil || !st.Present || st.Holders != 2 {
		t.Fatalf("Observe = %+v, %v; want present, 2 holders", st, err)
	}
}

// matches reports whether s is pattern, where each * stands for any text.
func matches(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1:] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return s == "" || parts[len(parts)-1] == ""
}

// After an enable found another converged host it could not stop, the
// next enable asks that host's agent first and does not start this host
// while it cannot: a retry does not split the traffic again. force does.
func TestRetryAfterBothConvergedDoesNotStartAgain(t *testing.T) {
	b, dir := newFake(t, fakeNLB, "stopped", nil)
	if err := os.WriteFile(filepath.Join(dir, "others"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	asked := 0
	b.StopOthersWith(stopperFunc(func(ctx context.Context, id int) error {
		asked++
		return fmt.Errorf("node rm2: %w", reactions.ErrUnreachable)
	}))
	ctx := viptest.Context(t, 20*time.Second)
	if err := b.Enable(ctx, false); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	if _, err := b.Verify(ctx, true); !errors.Is(err, ErrBothConverged) {
		t.Fatalf("Verify = %v, want ErrBothConverged", err)
	}
	log := filepath.Join(dir, "argv.log")
	if err := os.Remove(log); err != nil {
		t.Fatal(err)
	}

	err := b.Enable(ctx, false)
	if !errors.Is(err, ErrBothConverged) || !strings.Contains(err.Error(), "so this host is not started") {
		t.Fatalf("second Enable = %v, want ErrBothConverged without a start", err)
	}
	if calls := viptest.Calls(t, log); len(calls) != 0 || asked != 2 {
		t.Errorf("second Enable ran %q and asked the agent %d times; want nothing run and the agent asked again", calls, asked)
	}

	if err := b.Enable(ctx, true); err != nil {
		t.Fatalf("forced Enable: %v", err)
	}
	if calls := viptest.Calls(t, log); len(calls) == 0 || calls[0][0] != "start" {
		t.Errorf("forced Enable ran %q, want start first", calls)
	}
}
