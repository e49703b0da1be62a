//go:build unix

package script

// The scripts here are small bash fakes written into t.TempDir(): they log
// their argv to a file and keep the VIP's state in another, so enable,
// disable and observe can be checked end to end without touching a real
// interface.

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// takeover is an IPTakeOver-like script: "enable|disable|status ...".
const takeover = `#!/bin/bash
{ for a in "$@"; do printf '%s\n' "$a"; done; printf -- '--\n'; } >> "$DIR/argv.log"
case "$1" in
enable)  echo present > "$DIR/state"; echo "VIP $2 enabled on $4" ;;
disable) rm -f "$DIR/state"; echo "VIP $2 disabled" ;;
status)  if [ -f "$DIR/state" ]; then echo "VIP $2 is here"; exit 0; fi; echo "VIP $2 is not here"; exit 1 ;;
*) echo "usage: $0 enable|disable|status"; exit 2 ;;
esac
`

var spec = vip.Spec{Name: "rm-vip", Prefix: netip.MustParsePrefix("192.0.2.10/24"), Interface: "Ethernet 2"}

func newTakeover(t *testing.T) (*Backend, string) {
	t.Helper()
	dir := t.TempDir()
	viptest.Write(t, dir, "IPTakeOver.sh", takeover)
	b, err := New(spec, map[string]any{
		"dir":     dir,
		"enable":  []any{"IPTakeOver.sh", "enable", "${vip}", "${mask}", "${interface}"},
		"disable": []any{"IPTakeOver.sh", "disable", "${address}", "${prefix_len}", "${name}"},
		"observe": []any{"IPTakeOver.sh", "status", "${vip}"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b, dir
}

func TestEnableObserveDisable(t *testing.T) {
	b, dir := newTakeover(t)
	ctx := viptest.Context(t, 10*time.Second)

	st, err := b.Observe(ctx)
	if err != nil || st.Present {
		t.Fatalf("Observe before = %+v, %v; want absent", st, err)
	}
	if err := b.Enable(ctx, false); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	st, err = b.Observe(ctx)
	if err != nil || !st.Present {
		t.Fatalf("Observe after enable = %+v, %v; want present", st, err)
	}
	if want := "script: IPTakeOver.sh exited 0: VIP 192.0.2.10 is here"; st.Detail != want {
		t.Errorf("Detail = %q, want %q", st.Detail, want)
	}
	if err := b.Disable(ctx); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	st, err = b.Observe(ctx)
	if err != nil || st.Present {
		t.Fatalf("Observe after disable = %+v, %v; want absent", st, err)
	}
	want := [][]string{
		{"status", "192.0.2.10"},
		{"enable", "192.0.2.10", "255.255.255.0", "Ethernet 2"},
		{"status", "192.0.2.10"},
		{"disable", "192.0.2.10/24", "24", "rm-vip"},
		{"status", "192.0.2.10"},
	}
	if diff := cmp.Diff(want, viptest.Calls(t, filepath.Join(dir, "argv.log"))); diff != "" {
		t.Errorf("script calls (-want +got):\n%s", diff)
	}
}

// The engine observes first and acts only when needed: when the script
// says present, nothing else runs.
func TestObserveOnlyRunsOnlyObserve(t *testing.T) {
	b, dir := newTakeover(t)
	if err := os.WriteFile(filepath.Join(dir, "state"), []byte("present\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := b.Observe(viptest.Context(t, 5*time.Second))
	if err != nil || !st.Present {
		t.Fatalf("Observe = %+v, %v; want present", st, err)
	}
	if diff := cmp.Diff([][]string{{"status", "192.0.2.10"}}, viptest.Calls(t, filepath.Join(dir, "argv.log"))); diff != "" {
		t.Errorf("script calls (-want +got):\n%s", diff)
	}
}

func TestObserveOtherExitIsAnError(t *testing.T) {
	dir := t.TempDir()
	p := viptest.Write(t, dir, "check.sh", "#!/bin/bash\necho 'cannot reach WMI'\nexit 2\n")
	b, err := New(spec, map[string]any{"enable": []any{p}, "disable": []any{p}, "observe": []any{p, "${vip}"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Observe(viptest.Context(t, 5*time.Second))
	var ee *reactions.ExecError
	if !errors.As(err, &ee) || ee.ExitCode != 2 || ee.Output != "cannot reach WMI\n" {
		t.Fatalf("Observe error = %v, want an ExecError with exit code 2 and the output", err)
	}
}

func TestFailingEnable(t *testing.T) {
	dir := t.TempDir()
	p := viptest.Write(t, dir, "IPTakeOver.sh", "#!/bin/bash\necho 'netsh failed: The object already exists.'\nexit 1\n")
	b, err := New(spec, map[string]any{"enable": []any{p, "enable", "${vip}"}, "disable": []any{p, "disable"}})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Enable(viptest.Context(t, 5*time.Second), false)
	var ee *reactions.ExecError
	if !errors.As(err, &ee) {
		t.Fatalf("Enable error = %v, want *reactions.ExecError", err)
	}
	want := reactions.Exec{Argv: []string{p, "enable", "192.0.2.10"}, ExitCode: 1, Output: "netsh failed: The object already exists.\n"}
	if diff := cmp.Diff(want, ee.Exec); diff != "" {
		t.Errorf("ExecError (-want +got):\n%s", diff)
	}
}

func TestHangingScriptIsKilledAtTheDeadline(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	p := viptest.Write(t, dir, "hang.sh", "#!/bin/bash\nsleep 300 &\necho $! > "+pidFile+"\nwait\n")
	b, err := New(spec, map[string]any{"enable": []any{p}, "disable": []any{p}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = b.Disable(viptest.Context(t, 300*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Disable error = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Disable returned after %v, want soon after the 300ms deadline", d)
	}
	viptest.WaitGone(t, pidFile, 3*time.Second)
}

// Without an observe script the backend looks at the interface itself.
func TestObserveAddressWithoutScript(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("loopback is named lo only on Linux (lo0 on BSD and macOS)")
	}
	dir := t.TempDir()
	p := viptest.Write(t, dir, "x.sh", "#!/bin/bash\nexit 0\n")
	opts := map[string]any{"enable": []any{p}, "disable": []any{p}}
	tests := []struct {
		spec vip.Spec
		want bool
	}{
		{vip.Spec{Name: "lo", Prefix: netip.MustParsePrefix("127.0.0.1/8"), Interface: "lo"}, true},
		{vip.Spec{Name: "any", Prefix: netip.MustParsePrefix("127.0.0.1/8")}, true},
		{vip.Spec{Name: "doc", Prefix: netip.MustParsePrefix("192.0.2.99/24"), Interface: "lo"}, false},
	}
	for _, tt := range tests {
		b, err := New(tt.spec, opts)
		if err != nil {
			t.Fatal(err)
		}
		// Every Linux network namespace has lo, so an error here is the
		// backend's.
		st, err := b.Observe(context.Background())
		if err != nil {
			t.Fatalf("Observe(%s on %q): %v", tt.spec.Prefix, tt.spec.Interface, err)
		}
		if st.Present != tt.want {
			t.Errorf("Observe(%s on %q) = %+v, want present=%v", tt.spec.Prefix, tt.spec.Interface, st, tt.want)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name string
		raw  map[string]any
	}{
		{name: "no enable", raw: map[string]any{"disable": []any{"/x/d.sh"}}},
		{name: "no disable", raw: map[string]any{"enable": []any{"/x/e.sh"}}},
		{name: "relative without dir", raw: map[string]any{"enable": []any{"e.sh"}, "disable": []any{"/x/d.sh"}}},
		{name: "relative dir", raw: map[string]any{"dir": "scripts", "enable": []any{"e.sh"}, "disable": []any{"d.sh"}}},
		{name: "unknown placeholder", raw: map[string]any{"enable": []any{"/x/e.sh", "{vip}", "${member}"}, "disable": []any{"/x/d.sh"}}},
		{name: "placeholder as the program", raw: map[string]any{"dir": "/x", "enable": []any{"${name}.sh"}, "disable": []any{"/x/d.sh"}}},
		{name: "unknown option", raw: map[string]any{"enable": []any{"/x/e.sh"}, "disable": []any{"/x/d.sh"}, "shell": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(spec, tt.raw); err == nil {
				t.Fatalf("New accepted %v", tt.raw)
			}
		})
	}
}

// checkIP answers like Genesys' Check_Ip.vbs: 1 when the address is found,
// 0 when not, -1 (255 here) without arguments.
const checkIP = `#!/bin/bash
{ for a in "$@"; do printf '%s\n' "$a"; done; printf -- '--\n'; } >> "$DIR/argv.log"
[ -n "$2" ] || { echo "usage: Check_Ip ip host"; exit 255; }
if [ -f "$DIR/state" ]; then echo "$1 found on $2"; exit 1; fi
echo "$1 not found on $2"; exit 0
`

// Genesys' own scripts run as they are: IPTakeOver with this node's member
// ID, Check_Ip with its reversed exit codes.
func TestGenesysScriptsAsTheyAre(t *testing.T) {
	dir := t.TempDir()
	viptest.Write(t, dir, "IPTakeOver.sh", takeover)
	viptest.Write(t, dir, "Check_Ip.sh", checkIP)
	s := spec
	s.MemberID = 2
	b, err := New(s, map[string]any{
		"dir":             dir,
		"enable":          []any{"IPTakeOver.sh", "enable", "${member_id}"},
		"disable":         []any{"IPTakeOver.sh", "disable", "${member_id}"},
		"observe":         []any{"Check_Ip.sh", "${vip}", "localhost"},
		"observe_present": []any{1},
		"observe_absent":  []any{0},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := viptest.Context(t, 10*time.Second)
	for _, step := range []struct {
		act  func() error
		want bool
	}{{nil, false}, {func() error { return b.Enable(ctx, false) }, true}, {func() error { return b.Disable(ctx) }, false}} {
		if step.act != nil {
			if err := step.act(); err != nil {
				t.Fatal(err)
			}
		}
		if st, err := b.Observe(ctx); err != nil || st.Present != step.want {
			t.Fatalf("Observe = %+v, %v; want present=%v", st, err, step.want)
		}
	}
	want := [][]string{
		{"192.0.2.10", "localhost"},
		{"enable", "2"}, {"192.0.2.10", "localhost"},
		{"disable", "2"}, {"192.0.2.10", "localhost"},
	}
	if diff := cmp.Diff(want, viptest.Calls(t, filepath.Join(dir, "argv.log"))); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}

	// An exit code in neither list is an error that shows the output.
	b.observe[len(b.observe)-1] = ""
	_, err = b.Observe(ctx)
	var ee *reactions.ExecError
	if !errors.As(err, &ee) || ee.ExitCode != 255 || err.Error() != `observe 192.0.2.10/24 (exit 1 means present, 0 absent): `+ee.Error() {
		t.Errorf("Observe with a usage error = %v, want an ExecError saying exit 255 means neither", err)
	}
}

func TestExitCodeAndMemberIDOptionsRefused(t *testing.T) {
	base := func(extra map[string]any) map[string]any {
		raw := map[string]any{"enable": []any{"/x/s", "enable"}, "disable": []any{"/x/s", "disable"}, "observe": []any{"/x/check"}}
		for k, v := range extra {
			raw[k] = v
		}
		return raw
	}
	tests := []struct {
		name string
		raw  map[string]any
		want string
	}{
		{"overlap", base(map[string]any{"observe_present": []any{0, 1}}), "options.observe_present, options.observe_absent: exit code 1 means both present and absent"},
		{"empty", base(map[string]any{"observe_absent": []any{}}), "options.observe_absent: empty; list the exit codes, e.g. [1]"},
		{"without observe", map[string]any{"enable": []any{"/x/s"}, "disable": []any{"/x/s"}, "observe_present": []any{1}}, "options.observe_present, options.observe_absent: only with options.observe"},
		{"member_id unset", base(map[string]any{"enable": []any{"/x/s", "enable", "${member_id}"}}), "options.enable: ${member_id}: this node has no member_id (set nodes.<this node>.member_id to the RM's mymemberid)"},
		{"not a number", base(map[string]any{"observe_present": []any{"found"}}), "cannot unmarshal !!str `found` into int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(spec, tt.raw)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
