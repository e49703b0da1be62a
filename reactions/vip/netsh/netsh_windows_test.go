package netsh

// These tests run the Go fake of netsh.exe (lab_test.go) through the
// backend on Windows, so the argv the backend builds goes through Go's
// quoting into a real command line, and the fake splits it with
// CommandLineToArgvW like netsh's C runtime does. The tests compare both:
// the line Windows passed and the arguments netsh would see.

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/command"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// newGoLab installs the Go fake as netsh.exe in a directory of its own.
func newGoLab(t *testing.T) *lab {
	t.Helper()
	dir := t.TempDir()
	return &lab{dir: dir, state: filepath.Join(dir, "state"), netsh: viptest.InstallFake(t, dir, "netsh")}
}

// line is the command line Windows should pass for program and rest.
func line(program, rest string) string { return syscall.EscapeArg(program) + " " + rest }

func TestCommandLines(t *testing.T) {
	tests := []struct {
		name          string
		prefix, ifc   string
		opts          map[string]any
		add, del      string
		addArgs, args []string
	}{
		{
			name: "ipv4", prefix: "192.0.2.10/24", ifc: "Ethernet 2",
			add:     `interface ipv4 add address "name=Ethernet 2" address=192.0.2.10 mask=255.255.255.0 store=active`,
			del:     `interface ipv4 delete address "name=Ethernet 2" address=192.0.2.10`,
			addArgs: []string{"interface", "ipv4", "add", "address", "name=Ethernet 2", "address=192.0.2.10", "mask=255.255.255.0", "store=active"},
			args:    []string{"interface", "ipv4", "delete", "address", "name=Ethernet 2", "address=192.0.2.10"},
		},
		{
			name: "ipv4 persistent store, interface with parentheses", prefix: "198.51.100.7/25", ifc: "Local Area Connection (2)",
			opts:    map[string]any{"store": "persistent"},
			add:     `interface ipv4 add address "name=Local Area Connection (2)" address=198.51.100.7 mask=255.255.255.128 store=persistent`,
			del:     `interface ipv4 delete address "name=Local Area Connection (2)" address=198.51.100.7`,
			addArgs: []string{"interface", "ipv4", "add", "address", "name=Local Area Connection (2)", "address=198.51.100.7", "mask=255.255.255.128", "store=persistent"},
			args:    []string{"interface", "ipv4", "delete", "address", "name=Local Area Connection (2)", "address=198.51.100.7"},
		},
		{
			name: "ipv6, one-word interface", prefix: "2001:db8::10/64", ifc: "Ethernet",
			add:     `interface ipv6 add address interface=Ethernet address=2001:db8::10/64 store=active`,
			del:     `interface ipv6 delete address interface=Ethernet address=2001:db8::10`,
			addArgs: []string{"interface", "ipv6", "add", "address", "interface=Ethernet", "address=2001:db8::10/64", "store=active"},
			args:    []string{"interface", "ipv6", "delete", "address", "interface=Ethernet", "address=2001:db8::10"},
		},
		{
			// Inside quotes a backslash before the closing quote is doubled,
			// or CommandLineToArgvW would read \" as a literal quote.
			name: "trailing backslash", prefix: "192.0.2.10/24", ifc: `vEthernet (NAT) \`,
			add:     `interface ipv4 add address "name=vEthernet (NAT) \\" address=192.0.2.10 mask=255.255.255.0 store=active`,
			del:     `interface ipv4 delete address "name=vEthernet (NAT) \\" address=192.0.2.10`,
			addArgs: []string{"interface", "ipv4", "add", "address", `name=vEthernet (NAT) \`, "address=192.0.2.10", "mask=255.255.255.0", "store=active"},
			args:    []string{"interface", "ipv4", "delete", "address", `name=vEthernet (NAT) \`, "address=192.0.2.10"},
		},
		// Names Windows gives adapters outside the English-speaking world
		// and to system adapters reach netsh whole, as one argument.
		{
			name: "French connection name", prefix: "192.0.2.10/24", ifc: "Connexion au réseau local 2",
			add:     `interface ipv4 add address "name=Connexion au réseau local 2" address=192.0.2.10 mask=255.255.255.0 store=active`,
			del:     `interface ipv4 delete address "name=Connexion au réseau local 2" address=192.0.2.10`,
			addArgs: []string{"interface", "ipv4", "add", "address", "name=Connexion au réseau local 2", "address=192.0.2.10", "mask=255.255.255.0", "store=active"},
			args:    []string{"interface", "ipv4", "delete", "address", "name=Connexion au réseau local 2", "address=192.0.2.10"},
		},
		{
			name: "Russian connection name", prefix: "192.0.2.10/24", ifc: "Подключение по локальной сети",
			add:     `interface ipv4 add address "name=Подключение по локальной сети" address=192.0.2.10 mask=255.255.255.0 store=active`,
			del:     `interface ipv4 delete address "name=Подключение по локальной сети" address=192.0.2.10`,
			addArgs: []string{"interface", "ipv4", "add", "address", "name=Подключение по локальной сети", "address=192.0.2.10", "mask=255.255.255.0", "store=active"},
			args:    []string{"interface", "ipv4", "delete", "address", "name=Подключение по локальной сети", "address=192.0.2.10"},
		},
		{
			name: "system adapter with asterisk", prefix: "192.0.2.10/24", ifc: "Local Area Connection* 12",
			add:     `interface ipv4 add address "name=Local Area Connection* 12" address=192.0.2.10 mask=255.255.255.0 store=active`,
			del:     `interface ipv4 delete address "name=Local Area Connection* 12" address=192.0.2.10`,
			addArgs: []string{"interface", "ipv4", "add", "address", "name=Local Area Connection* 12", "address=192.0.2.10", "mask=255.255.255.0", "store=active"},
			args:    []string{"interface", "ipv4", "delete", "address", "name=Local Area Connection* 12", "address=192.0.2.10"},
		},
		{
			name: "team adapter with hash and ampersand", prefix: "192.0.2.10/24", ifc: "NIC #2 (Team A&B)",
			add:     `interface ipv4 add address "name=NIC #2 (Team A&B)" address=192.0.2.10 mask=255.255.255.0 store=active`,
			del:     `interface ipv4 delete address "name=NIC #2 (Team A&B)" address=192.0.2.10`,
			addArgs: []string{"interface", "ipv4", "add", "address", "name=NIC #2 (Team A&B)", "address=192.0.2.10", "mask=255.255.255.0", "store=active"},
			args:    []string{"interface", "ipv4", "delete", "address", "name=NIC #2 (Team A&B)", "address=192.0.2.10"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newGoLab(t)
			b := newBackendOn(t, l, tt.prefix, tt.ifc, tt.opts)
			ctx := viptest.Context(t, time.Minute)

			if err := b.Enable(ctx, false); err != nil {
				t.Fatalf("Enable: %v", err)
			}
			if st, err := b.Observe(ctx); err != nil || !st.Present {
				t.Fatalf("Observe after enable = %+v, %v; want present", st, err)
			}
			if err := b.Disable(ctx); err != nil {
				t.Fatalf("Disable: %v", err)
			}
			if st, err := b.Verify(ctx, false); err != nil || st.Present {
				t.Fatalf("Verify(false) = %+v, %v; want absent", st, err)
			}
			want := []viptest.Invocation{
				{CommandLine: line(l.netsh, tt.add), Args: tt.addArgs},
				{CommandLine: line(l.netsh, tt.del), Args: tt.args},
			}
			if diff := cmp.Diff(want, viptest.Invocations(t, l.dir)); diff != "" {
				t.Errorf("netsh invocations (-want +got):\n%s", diff)
			}
		})
	}
}

// netsh's own answers come back whole: a second add fails with netsh's
// message and exit code, and a duplicate is deleted before it is added.
func TestNetshAnswers(t *testing.T) {
	l := newGoLab(t)
	b := newBackendOn(t, l, "192.0.2.10/24", "Ethernet 2", nil)
	ctx := viptest.Context(t, time.Minute)
	if err := b.Enable(ctx, false); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	_, err := command.Run(ctx, b.addArgv(), command.Options{})
	var ee *reactions.ExecError
	if !errors.As(err, &ee) || ee.ExitCode != 1 || ee.Output != "The object already exists.\n" {
		t.Fatalf("second add = %v, want netsh's exit code 1 and message", err)
	}

	if err := os.WriteFile(l.state, []byte("192.0.2.10 duplicate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(l.dir, "invocations.jsonl")); err != nil {
		t.Fatal(err)
	}
	if err := b.Enable(ctx, false); err != nil {
		t.Fatalf("Enable over a duplicate: %v", err)
	}
	want := [][]string{
		{"interface", "ipv4", "delete", "address", "name=Ethernet 2", "address=192.0.2.10"},
		{"interface", "ipv4", "add", "address", "name=Ethernet 2", "address=192.0.2.10", "mask=255.255.255.0", "store=active"},
	}
	if diff := cmp.Diff(want, viptest.Args(viptest.Invocations(t, l.dir))); diff != "" {
		t.Errorf("netsh calls (-want +got):\n%s", diff)
	}
}

func TestArpingCommandLine(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run("fail="+strconv.FormatBool(fail), func(t *testing.T) {
			l := newGoLab(t)
			arpDir := filepath.Join(l.dir, "arping tools")
			if err := os.Mkdir(arpDir, 0o755); err != nil {
				t.Fatal(err)
			}
			arping := viptest.InstallFake(t, arpDir, "arping")
			if fail {
				if err := os.WriteFile(filepath.Join(arpDir, "fail"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b := newBackendOn(t, l, "192.0.2.10/24", "Ethernet 2", map[string]any{
				"arping":               []any{arping, "-c", "3", "-i", "${interface_for_arping}", "-S", "${vip}", "${gateway}"},
				"interface_for_arping": `\Device\NPF_{85FEBE1C-9EEF-4E61-974B-1158DB270F6E}`,
				"gateway":              "192.0.2.1",
			})
			err := b.Enable(viptest.Context(t, time.Minute), false)
			want := []viptest.Invocation{{
				CommandLine: line(arping, `-c 3 -i \Device\NPF_{85FEBE1C-9EEF-4E61-974B-1158DB270F6E} -S 192.0.2.10 192.0.2.1`),
				Args:        []string{"-c", "3", "-i", `\Device\NPF_{85FEBE1C-9EEF-4E61-974B-1158DB270F6E}`, "-S", "192.0.2.10", "192.0.2.1"},
			}}
			if diff := cmp.Diff(want, viptest.Invocations(t, arpDir)); diff != "" {
				t.Errorf("arping invocations (-want +got):\n%s", diff)
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
		})
	}
}

func TestHangingNetshIsKilled(t *testing.T) {
	dir := t.TempDir()
	l := &lab{dir: dir, state: filepath.Join(dir, "state"), netsh: viptest.InstallFake(t, dir, "sleeper")}
	b := newBackendOn(t, l, "192.0.2.10/24", "Ethernet 2", nil)
	ctx := viptest.TreeDeadline(t, dir, time.Minute)
	var err error
	viptest.ReturnsAfterDeadline(t, ctx, 30*time.Second, func() { err = b.Disable(ctx) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Disable error = %v, want DeadlineExceeded", err)
	}
	for _, f := range viptest.TreePIDFiles(dir) {
		viptest.WaitGone(t, f, 5*time.Second)
	}
}

// The system netsh.exe comes from the system directory, never from PATH.
func TestSystemNetsh(t *testing.T) {
	b, err := New(vip.Spec{Name: "rm-vip", Prefix: netip.MustParsePrefix("192.0.2.10/24"), Interface: "Ethernet 2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(filepath.Base(b.netsh), "netsh.exe") || !strings.EqualFold(filepath.Base(filepath.Dir(b.netsh)), "system32") {
		t.Errorf("netsh = %q, want netsh.exe in the system directory", b.netsh)
	}
}

// TestObserveSystemOnWindows runs the observer the backend uses on Windows
// (net.Interface for the address list, GetAdaptersAddresses for its
// duplicate address detection state) against this host's own interfaces:
// every IPv4 address an interface lists is held and preferred, and a
// documentation address is not on it.
func TestObserveSystemOnWindows(t *testing.T) {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, ifi := range ifs {
		addrs, err := ifi.Addrs()
		if err != nil {
			t.Fatalf("addresses of %q: %v", ifi.Name, err)
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok || !ip.Unmap().Is4() {
				continue
			}
			o, err := observeSystem(context.Background(), ifi.Name, ip.Unmap())
			if err != nil || !o.held() || o.DAD != dadPreferred {
				t.Errorf("observeSystem(%q, %s) = %+v, %v; want held and preferred", ifi.Name, ip, o, err)
			}
			checked++
		}
		o, err := observeSystem(context.Background(), ifi.Name, netip.MustParseAddr("192.0.2.99"))
		if err != nil || o.Configured {
			t.Errorf("observeSystem(%q, 192.0.2.99) = %+v, %v; want not configured", ifi.Name, o, err)
		}
	}
	if checked == 0 {
		t.Fatalf("no interface with an IPv4 address among %d", len(ifs))
	}
	if _, err := observeSystem(context.Background(), "no such connection", netip.MustParseAddr("192.0.2.99")); err == nil {
		t.Error("observing a missing interface succeeded")
	}
}
