package nlb

// These tests run the Go fake of the NLB control program (fake_test.go) as
// nlb.exe and wlbs.exe on Windows: the backend's argv becomes a real
// command line, which the fake records and splits with CommandLineToArgvW.

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

var winSpec = vip.Spec{Name: "rm-vip", Prefix: netip.MustParsePrefix("192.0.2.10/24"), Interface: "Ethernet 2"}

// invocations turns "verb args..." lines into what the fake should have
// recorded: the command line as Windows passed it, and its arguments.
func invocations(program string, lines ...string) []viptest.Invocation {
	var out []viptest.Invocation
	for _, l := range lines {
		out = append(out, viptest.Invocation{CommandLine: syscall.EscapeArg(program) + " " + l, Args: strings.Fields(l)})
	}
	return out
}

func TestMoveInAndOutOnWindows(t *testing.T) {
	tests := []struct {
		name        string
		program     string // the fake's name
		opts        map[string]any
		wantEnable  []string
		wantDisable []string
	}{
		{
			name:        "nlb.exe, defaults",
			program:     "nlb",
			wantEnable:  []string{"start 192.0.2.10 local", "enable all 192.0.2.10 local", "query 192.0.2.10 local", "query 192.0.2.10 local"},
			wantDisable: []string{"drainstop 192.0.2.10 local", "query 192.0.2.10 local", "query 192.0.2.10 local"},
		},
		{
			name:        "wlbs.exe, port, cluster name and stop",
			program:     "wlbs",
			opts:        map[string]any{"port": "5060", "cluster": "gvp-rm.example.com", "disable_mode": "stop"},
			wantEnable:  []string{"start gvp-rm.example.com local", "enable 5060 gvp-rm.example.com local", "query gvp-rm.example.com local", "query gvp-rm.example.com local"},
			wantDisable: []string{"stop gvp-rm.example.com local", "query gvp-rm.example.com local", "query gvp-rm.example.com local"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A directory with a space, as under C:\Program Files.
			dir := filepath.Join(t.TempDir(), "NLB tools")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			program := viptest.InstallFake(t, dir, tt.program)
			raw := map[string]any{"program": program}
			for k, v := range tt.opts {
				raw[k] = v
			}
			b, err := New(winSpec, raw)
			if err != nil {
				t.Fatal(err)
			}
			ctx := viptest.Context(t, time.Minute)

			if err := b.Enable(ctx, false); err != nil {
				t.Fatalf("Enable: %v", err)
			}
			st, err := b.Verify(ctx, true)
			if err != nil || !st.Present || !strings.Contains(st.Detail, "converged as DEFAULT") {
				t.Fatalf("Verify(true) = %+v, %v; want present, converged as DEFAULT", st, err)
			}
			if diff := cmp.Diff(invocations(program, tt.wantEnable...), viptest.Invocations(t, dir)); diff != "" {
				t.Errorf("enable invocations (-want +got):\n%s", diff)
			}
			if err := os.Remove(filepath.Join(dir, "invocations.jsonl")); err != nil {
				t.Fatal(err)
			}

			if err := b.Disable(ctx); err != nil {
				t.Fatalf("Disable: %v", err)
			}
			st, err = b.Verify(ctx, false)
			if err != nil || st.Present {
				t.Fatalf("Verify(false) = %+v, %v; want absent", st, err)
			}
			if diff := cmp.Diff(invocations(program, tt.wantDisable...), viptest.Invocations(t, dir)); diff != "" {
				t.Errorf("disable invocations (-want +got):\n%s", diff)
			}
		})
	}
}

// nlb.exe and wlbs.exe come from the system directory, never from PATH.
func TestSystemPrograms(t *testing.T) {
	for _, name := range []string{"nlb", "wlbs"} {
		t.Run(name, func(t *testing.T) {
			b, err := New(winSpec, map[string]any{"program": name})
			if err != nil {
				t.Fatal(err)
			}
			if want := name + ".exe"; !strings.EqualFold(filepath.Base(b.program), want) || !strings.EqualFold(filepath.Base(filepath.Dir(b.program)), "system32") {
				t.Errorf("program = %q, want %s in the system directory", b.program, want)
			}
		})
	}
}

// wlbs hangs when a peer's NIC is unreachable: the deadline ends it and
// everything it started.
func TestHangingQueryIsKilled(t *testing.T) {
	dir := t.TempDir()
	b, err := New(winSpec, map[string]any{"program": viptest.InstallFake(t, dir, "sleeper")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := viptest.TreeDeadline(t, dir, time.Minute)
	viptest.ReturnsAfterDeadline(t, ctx, 30*time.Second, func() { _, err = b.Observe(ctx) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Observe error = %v, want DeadlineExceeded", err)
	}
	for _, f := range viptest.TreePIDFiles(dir) {
		viptest.WaitGone(t, f, 5*time.Second)
	}
}

// The cluster's converged list, read from nlb.exe's real command line and
// output: another converged host that no agent can stop fails the enable
// with ErrBothConverged, and this host stops again.
func TestBothConvergedOnWindows(t *testing.T) {
	dir := t.TempDir()
	program := viptest.InstallFake(t, dir, "nlb")
	if err := os.WriteFile(filepath.Join(dir, "others"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := New(winSpec, map[string]any{"program": program})
	if err != nil {
		t.Fatal(err)
	}
	ctx := viptest.Context(t, time.Minute)
	if err := b.Enable(ctx, false); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	st, err := b.Verify(ctx, true)
	if !errors.Is(err, ErrBothConverged) || !strings.Contains(err.Error(), "cluster members 1, 2") {
		t.Fatalf("Verify(true) = %+v, %v; want ErrBothConverged naming both hosts", st, err)
	}
	args := viptest.Args(viptest.Invocations(t, dir))
	if undo := args[len(args)-3]; !slices.Equal(undo, []string{"drainstop", "192.0.2.10", "local"}) {
		t.Errorf("invocations %q: want drainstop, then the queries that checked it", args)
	}
}
