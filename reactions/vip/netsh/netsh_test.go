//go:build unix

package netsh

// These tests run on Linux against a fake netsh: a bash script that appends
// its argv to a log file and keeps the "configured addresses" in a state
// file, answering like netsh does. A fake cannot change real interfaces, so
// each test also swaps the backend's observer for one that reads the fake's
// state file (fileObserver); DAD transitions are driven through that
// observer too.

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

const fakeNetsh = `#!/bin/bash
{ for a in "$@"; do printf '%s\n' "$a"; done; printf -- '--\n'; } >> "$LOG"
addr="${6#address=}"; addr="${addr%/*}"
touch "$STATE"
case "$3" in
add)
	if grep -q "^$addr " "$STATE"; then echo "The object already exists."; exit 1; fi
	echo "$addr preferred" >> "$STATE" ;;
delete)
	if ! grep -q "^$addr " "$STATE"; then echo "Element not found."; exit 1; fi
	grep -v "^$addr " "$STATE" > "$STATE.tmp"; mv "$STATE.tmp" "$STATE" ;;
*) echo "The following command was not found: $*"; exit 1 ;;
esac
`

func newLab(t *testing.T, script string) *lab {
	t.Helper()
	dir := t.TempDir()
	l := &lab{dir: dir, log: filepath.Join(dir, "argv.log"), state: filepath.Join(dir, "state"), netsh: filepath.Join(dir, "netsh")}
	body := strings.NewReplacer("$LOG", l.log, "$STATE", l.state).Replace(script)
	viptest.Write(t, dir, "netsh", body)
	return l
}

func TestEnableDisableArgv(t *testing.T) {
	tests := []struct {
		name       string
		prefix     string
		opts       map[string]any
		wantAdd    []string
		wantDelete []string
	}{
		{
			name:       "ipv4",
			prefix:     "192.0.2.10/24",
			wantAdd:    []string{"interface", "ipv4", "add", "address", "name=Ethernet 2", "address=192.0.2.10", "mask=255.255.255.0", "store=active"},
			wantDelete: []string{"interface", "ipv4", "delete", "address", "name=Ethernet 2", "address=192.0.2.10"},
		},
		{
			name:       "ipv4 persistent store",
			prefix:     "198.51.100.7/25",
			opts:       map[string]any{"store": "persistent"},
			wantAdd:    []string{"interface", "ipv4", "add", "address", "name=Ethernet 2", "address=198.51.100.7", "mask=255.255.255.128", "store=persistent"},
			wantDelete: []string{"interface", "ipv4", "delete", "address", "name=Ethernet 2", "address=198.51.100.7"},
		},
		{
			name:       "ipv6",
			prefix:     "2001:db8::10/64",
			wantAdd:    []string{"interface", "ipv6", "add", "address", "interface=Ethernet 2", "address=2001:db8::10/64", "store=active"},
			wantDelete: []string{"interface", "ipv6", "delete", "address", "interface=Ethernet 2", "address=2001:db8::10"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t, fakeNetsh)
			b := newBackend(t, l, tt.prefix, tt.opts)
			ctx := viptest.Context(t, 10*time.Second)

			if err := b.Enable(ctx, false); err != nil {
				t.Fatalf("Enable: %v", err)
			}
			st, err := b.Verify(ctx, true)
			if err != nil || !st.Present {
				t.Fatalf("Verify(true) = %+v, %v; want present", st, err)
			}
			if err := b.Disable(ctx); err != nil {
				t.Fatalf("Disable: %v", err)
			}
			st, err = b.Verify(ctx, false)
			if err != nil || st.Present {
				t.Fatalf("Verify(false) = %+v, %v; want absent", st, err)
			}
			want := [][]string{tt.wantAdd, tt.wantDelete}
			if diff := cmp.Diff(want, viptest.Calls(t, l.log)); diff != "" {
				t.Errorf("netsh calls (-want +got):\n%s", diff)
			}
		})
	}
}

// The engine observes before it acts; when the VIP is already there it
// calls nothing else. This shows the backend's half of that contract.
func TestObserveOnlyRunsNothing(t *testing.T) {
	l := newLab(t, fakeNetsh)
	if err := os.WriteFile(l.state, []byte("192.0.2.10 preferred\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, l, "192.0.2.10/24", nil)
	st, err := b.Observe(viptest.Context(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Present {
		t.Fatalf("Observe = %+v, want present", st)
	}
	if calls := viptest.Calls(t, l.log); len(calls) != 0 {
		t.Errorf("Observe ran netsh: %q", calls)
	}
}

func TestFailingNetsh(t *testing.T) {
	l := newLab(t, "#!/bin/bash\necho 'The filename, directory name, or volume label syntax is incorrect.'\nexit 1\n")
	b := newBackend(t, l, "192.0.2.10/24", nil)
	err := b.Enable(viptest.Context(t, 5*time.Second), false)
	var ee *reactions.ExecError
	if !errors.As(err, &ee) {
		t.Fatalf("Enable error = %v, want *reactions.ExecError", err)
	}
	want := reactions.Exec{
		Argv:     []string{filepath.Join(l.dir, "netsh"), "interface", "ipv4", "add", "address", "name=Ethernet 2", "address=192.0.2.10", "mask=255.255.255.0", "store=active"},
		ExitCode: 1,
		Output:   "The filename, directory name, or volume label syntax is incorrect.\n",
	}
	if diff := cmp.Diff(want, ee.Exec); diff != "" {
		t.Errorf("ExecError (-want +got):\n%s", diff)
	}
}

func TestHangingNetshIsKilledAtTheDeadline(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	l := newLab(t, "#!/bin/bash\nsleep 300 &\necho $! > "+pidFile+"\nwait\n")
	b := newBackend(t, l, "192.0.2.10/24", nil)

	start := time.Now()
	err := b.Disable(viptest.Context(t, 300*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Disable error = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Disable returned after %v, want soon after the 300ms deadline", d)
	}
	viptest.WaitGone(t, pidFile, 3*time.Second)
}

// A duplicate address left configured is deleted before it is added again
// (netsh would refuse the add), and DAD decides again.
func TestEnableReplacesDuplicate(t *testing.T) {
	l := newLab(t, fakeNetsh)
	if err := os.WriteFile(l.state, []byte("192.0.2.10 duplicate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, l, "192.0.2.10/24", nil)
	st, err := b.Observe(viptest.Context(t, 5*time.Second))
	if err != nil || st.Present {
		t.Fatalf("Observe = %+v, %v; want absent (duplicate)", st, err)
	}
	if err := b.Enable(viptest.Context(t, 5*time.Second), false); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	want := [][]string{
		{"interface", "ipv4", "delete", "address", "name=Ethernet 2", "address=192.0.2.10"},
		{"interface", "ipv4", "add", "address", "name=Ethernet 2", "address=192.0.2.10", "mask=255.255.255.0", "store=active"},
	}
	if diff := cmp.Diff(want, viptest.Calls(t, l.log)); diff != "" {
		t.Errorf("netsh calls (-want +got):\n%s", diff)
	}
}

func TestArping(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run("fail="+strconv.FormatBool(fail), func(t *testing.T) {
			l := newLab(t, fakeNetsh)
			arpLog := filepath.Join(l.dir, "arping.log")
			exit := "0"
			if fail {
				exit = "1"
			}
			arping := filepath.Join(l.dir, "arping")
			viptest.Write(t, filepath.Dir(arping), filepath.Base(arping), "#!/bin/bash\n{ for a in \"$@\"; do printf '%s\\n' \"$a\"; done; printf -- '--\\n'; } >> "+arpLog+"\necho 'arping: 3 packets sent'\nexit "+exit+"\n")
			b := newBackend(t, l, "192.0.2.10/24", map[string]any{
				"arping":               []any{arping, "-c", "3", "-i", "${interface_for_arping}", "-S", "${vip}", "${gateway}"},
				"interface_for_arping": `\Device\NPF_{85FEBE1C-9EEF-4E61-974B-1158DB270F6E}`,
				"gateway":              "192.0.2.1",
			})
			err := b.Enable(viptest.Context(t, 5*time.Second), false)
			wantArgv := []string{"-c", "3", "-i", `\Device\NPF_{85FEBE1C-9EEF-4E61-974B-1158DB270F6E}`, "-S", "192.0.2.10", "192.0.2.1"}
			if diff := cmp.Diff([][]string{wantArgv}, viptest.Calls(t, arpLog)); diff != "" {
				t.Errorf("arping calls (-want +got):\n%s", diff)
			}
			if !fail {
				if err != nil {
					t.Fatalf("Enable: %v", err)
				}
				return
			}
			var ee *reactions.ExecError
			if !errors.As(err, &ee) || ee.ExitCode != 1 || ee.Argv[0] != arping || !strings.Contains(ee.Output, "3 packets sent") {
				t.Fatalf("Enable error = %v, want arping's ExecError with exit code 1 and its output", err)
			}
			if st, _ := b.Observe(viptest.Context(t, time.Second)); !st.Present {
				t.Errorf("after a failed arping the address should stay configured, got %+v", st)
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	spec := vip.Spec{Name: "rm-vip", Prefix: netip.MustParsePrefix("192.0.2.10/24"), Interface: "Ethernet 2"}
	tests := []struct {
		name string
		spec vip.Spec
		raw  map[string]any
	}{
		{name: "relative netsh", spec: spec, raw: map[string]any{"netsh_path": "netsh.exe"}},
		{name: "unknown option", spec: spec, raw: map[string]any{"netsh_path": "/x/netsh", "timeout": "5s"}},
		{name: "bad store", spec: spec, raw: map[string]any{"netsh_path": "/x/netsh", "store": "forever"}},
		{name: "unknown placeholder", spec: spec, raw: map[string]any{"netsh_path": "/x/netsh", "arping": []any{"/x/arping", "${nope}"}}},
		{name: "placeholder as the program", spec: spec, raw: map[string]any{"netsh_path": "/x/netsh", "arping": []any{"/x/${interface_for_arping}/arping", "${vip}"}, "interface_for_arping": "bin"}},
		{name: "relative arping", spec: spec, raw: map[string]any{"netsh_path": "/x/netsh", "arping": []any{"arping.exe"}}},
		{name: "bad arping timeout", spec: spec, raw: map[string]any{"netsh_path": "/x/netsh", "arping_timeout": "soon"}},
		{name: "quote in interface", spec: vip.Spec{Name: "v", Prefix: spec.Prefix, Interface: `Eth" x`}, raw: map[string]any{"netsh_path": "/x/netsh"}},
		{name: "no interface", spec: vip.Spec{Name: "v", Prefix: spec.Prefix}, raw: map[string]any{"netsh_path": "/x/netsh"}},
		{name: "system netsh off windows", spec: spec, raw: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.spec, tt.raw); err == nil {
				t.Fatalf("New accepted %v", tt.raw)
			}
		})
	}
}

// On Linux the portable observer sees real interfaces: loopback holds
// 127.0.0.1 and does not hold a documentation address.
func TestObserveSystemLoopback(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("loopback is named lo only on Linux (lo0 on BSD and macOS)")
	}
	// Every Linux network namespace has lo, so an error here is the
	// observer's.
	o, err := observeSystem(context.Background(), "lo", netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatalf("observing lo: %v", err)
	}
	if !o.held() {
		t.Errorf("lo does not hold 127.0.0.1: %+v", o)
	}
	o, err = observeSystem(context.Background(), "lo", netip.MustParseAddr("192.0.2.99"))
	if err != nil || o.Configured {
		t.Errorf("lo holds 192.0.2.99? %+v, %v", o, err)
	}
	if _, err := observeSystem(context.Background(), "no-such-if0", netip.MustParseAddr("192.0.2.99")); err == nil {
		t.Error("observing a missing interface succeeded")
	}
}

// busyNetsh is fakeNetsh that fails, changing nothing, while the file
// "busy" next to it holds a number above 0 (decremented per run), as netsh
// does while the adapter's Properties dialog is open; its message is in
// French, which the backend must not need to read.
var busyNetsh = `#!/bin/bash
busy=$(cat "$STATE.busy" 2>/dev/null || echo 0)
if [ "$busy" -gt 0 ]; then
	echo $((busy - 1)) > "$STATE.busy"
	{ for a in "$@"; do printf '%s\n' "$a"; done; printf -- '--\n'; } >> "$LOG"
	echo "La configuration de la carte est en cours d'utilisation."; exit 1
fi
` + fakeNetsh[len("#!/bin/bash\n"):]

// A netsh that fails while the NIC's settings are being accessed is run
// again within the step's deadline, for add and delete alike; one that
// keeps failing ends the step with the count and the last output, before
// the deadline leaves no room for another slow run.
func TestNetshBusyIsRetried(t *testing.T) {
	add := []string{"interface", "ipv4", "add", "address", "name=Ethernet 2", "address=192.0.2.10", "mask=255.255.255.0", "store=active"}
	del := []string{"interface", "ipv4", "delete", "address", "name=Ethernet 2", "address=192.0.2.10"}
	t.Run("busy twice, then free", func(t *testing.T) {
		l := newLab(t, busyNetsh)
		b := newBackend(t, l, "192.0.2.10/24", nil)
		b.retryReserve = time.Second
		ctx := viptest.Context(t, 30*time.Second)
		if err := os.WriteFile(l.state+".busy", []byte("2\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := b.Enable(ctx, false); err != nil {
			t.Fatalf("Enable: %v", err)
		}
		if err := os.WriteFile(l.state+".busy", []byte("1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := b.Disable(ctx); err != nil {
			t.Fatalf("Disable: %v", err)
		}
		if diff := cmp.Diff([][]string{add, add, add, del, del}, viptest.Calls(t, l.log)); diff != "" {
			t.Errorf("netsh calls (-want +got):\n%s", diff)
		}
	})
	t.Run("busy until the deadline", func(t *testing.T) {
		l := newLab(t, busyNetsh)
		b := newBackend(t, l, "192.0.2.10/24", nil)
		b.retryReserve = 2 * time.Second
		if err := os.WriteFile(l.state+".busy", []byte("1000\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx := viptest.Context(t, 4*time.Second)
		err := b.Enable(ctx, false)
		var ee *reactions.ExecError
		if !errors.As(err, &ee) || ee.Output != "La configuration de la carte est en cours d'utilisation.\n" {
			t.Fatalf("Enable error = %v, want netsh's last output", err)
		}
		if !strings.Contains(err.Error(), "netsh failed 2 times in a row") {
			t.Errorf("Enable error = %v, want the count of attempts", err)
		}
		if ctx.Err() != nil {
			t.Errorf("Enable gave up at the deadline (%v), want it to stop retrying while a slow run still fits", ctx.Err())
		}
	})
}
