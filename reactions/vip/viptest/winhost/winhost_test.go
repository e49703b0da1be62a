package winhost_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions/command"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/nlb"
	"github.com/vipagent/vipagent/reactions/vip/viptest/winhost"
)

// built is what the tests install as the fakes: this test binary, which
// behaves as the fake its name says (so the tests need no Go toolchain and
// run under Wine as they are).
var built string

func TestMain(m *testing.M) {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if winhost.Fake(exe) {
		os.Exit(winhost.Main(exe, os.Args[1:], os.Stdout, os.Stderr))
	}
	built = exe
	os.Exit(m.Run())
}

// pair builds the fake once, installs it for rm1 (member 1) and rm2
// (member 2) on a fresh model with cfg, and returns the model and each
// host's installed fakes.
func pair(t *testing.T, cfg winhost.Config) (winhost.File, map[string][2]string) {
	t.Helper()
	dir := t.TempDir()
	model := winhost.File(filepath.Join(dir, "model.json"))
	m := &winhost.Model{Config: cfg, Hosts: map[string]*winhost.Host{}}
	progs := map[string][2]string{}
	for i, h := range []string{"rm1", "rm2"} {
		m.Hosts[h] = &winhost.Host{Member: i + 1, NLB: winhost.Stopped, Adapters: map[string][]string{"Ethernet 2": {fmt.Sprintf("198.51.100.%d/24", i+1)}}}
		netsh, nlbp, err := winhost.Install(built, filepath.Join(dir, h), string(model), h)
		if err != nil {
			t.Fatal(err)
		}
		progs[h] = [2]string{netsh, nlbp}
	}
	if err := model.Create(m); err != nil {
		t.Fatal(err)
	}
	return model, progs
}

// run starts an installed fake as a real child process.
func run(t *testing.T, prog string, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(prog, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", prog, err)
	}
	return out.String(), 0
}

// quiet is a model without latencies or failures.
func quiet() winhost.Config {
	c := winhost.DefaultConfig()
	c.Scale, c.BusyPercent = 0, 0
	return c
}

// nlb.exe's English messages, its converged host list and its exit code
// (1 after every processed command), with both hosts sharing one cluster.
func TestNLBQueryShowsTheClusterView(t *testing.T) {
	model, progs := pair(t, quiet())
	nlb1, nlb2 := progs["rm1"][1], progs["rm2"][1]
	if out, code := run(t, nlb1, "query", "192.0.2.100", "local"); code != 1 || !strings.Contains(out, "Host 1 is stopped and does not know convergence state of the cluster.") {
		t.Fatalf("query of a stopped host: exit %d\n%s", code, out)
	}
	for _, p := range []string{nlb1, nlb2} {
		if out, code := run(t, p, "start", "192.0.2.100", "local"); code != 1 || !strings.Contains(out, "Cluster operations started.") {
			t.Fatalf("start: exit %d\n%s", code, out)
		}
	}
	// Convergence takes no time at scale 0: both hosts converged, and each
	// sees the other in the cluster's list.
	out, _ := run(t, nlb2, "query", "192.0.2.100", "local")
	if !strings.Contains(out, "Host 2 converged with the following host(s) as part of the cluster:\n1, 2\n") {
		t.Errorf("query on rm2:\n%s", out)
	}
	out, _ = run(t, nlb1, "query", "192.0.2.100", "local")
	if !strings.Contains(out, "Host 1 converged as DEFAULT with the following host(s) as part of the cluster:\n1, 2\n") {
		t.Errorf("query on rm1:\n%s", out)
	}
	m, err := model.Read()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"rm1", "rm2"}, m.Holders(true, "", "")); diff != "" {
		t.Errorf("NLB holders (-want +got):\n%s", diff)
	}
	run(t, nlb1, "stop", "192.0.2.100", "local")
	out, _ = run(t, nlb2, "query", "192.0.2.100", "local")
	if !strings.Contains(out, "Host 2 converged as DEFAULT with the following host(s) as part of the cluster:\n2\n") {
		t.Errorf("query on rm2 after rm1 stopped:\n%s", out)
	}
	if out, code := run(t, nlb1, "enable", "all", "192.0.2.100", "local"); code != 1 || !strings.Contains(out, "Cannot modify traffic handling because cluster operations are stopped.") {
		t.Errorf("enable on a stopped host: exit %d\n%s", code, out)
	}
}

// Converging and draining take the model's (scaled) time.
func TestNLBConvergesAndDrainsOnTheModelClock(t *testing.T) {
	cfg := quiet()
	cfg.Scale = 1
	cfg.Converge, cfg.Drain = winhost.Duration(time.Hour), winhost.Duration(time.Hour)
	model, progs := pair(t, cfg)
	run(t, progs["rm1"][1], "start", "192.0.2.100", "local")
	out, _ := run(t, progs["rm1"][1], "query", "192.0.2.100", "local")
	if !strings.Contains(out, "Host 1 converging with the following host(s) as part of the cluster:\n1\n") {
		t.Errorf("query while converging:\n%s", out)
	}
	run(t, progs["rm1"][1], "drainstop", "192.0.2.100", "local")
	out, _ = run(t, progs["rm1"][1], "query", "192.0.2.100", "local")
	if !strings.Contains(out, "Host 1 draining connections with the following host(s) as part of the cluster:\n1\n") {
		t.Errorf("query while draining:\n%s", out)
	}
	m, err := model.Read()
	if err != nil {
		t.Fatal(err)
	}
	if hs := m.Holders(true, "", ""); len(hs) != 0 {
		t.Errorf("a draining host takes no new traffic, yet holders are %v", hs)
	}
}

// netsh's exit codes: 0 for a change made, 1 with a message otherwise.
func TestNetshChangesTheAdapter(t *testing.T) {
	model, progs := pair(t, quiet())
	netsh := progs["rm1"][0]
	add := []string{"interface", "ipv4", "add", "address", "name=Ethernet 2", "address=192.0.2.100", "mask=255.255.255.0", "store=active"}
	del := []string{"interface", "ipv4", "delete", "address", "name=Ethernet 2", "address=192.0.2.100"}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
		want []string
	}{
		{add, 0, "", []string{"rm1"}},
		{add, 1, winhost.MsgExists, []string{"rm1"}},
		{del, 0, "", nil},
		{del, 1, winhost.MsgNotFound, nil},
		{[]string{"interface", "ipv4", "add", "address", "name=Ethernet 9", "address=192.0.2.100", "mask=255.255.255.0"}, 1, winhost.MsgNoAdapter, nil},
		{[]string{"interface", "ipv4", "add", "address", "Ethernet 2", "192.0.2.100"}, 1, "The parameter is incorrect.", nil},
	} {
		out, code := run(t, netsh, tc.args...)
		if code != tc.code || (tc.msg != "" && strings.TrimSpace(out) != tc.msg) {
			t.Errorf("netsh %q: exit %d %q, want %d %q", tc.args, code, out, tc.code, tc.msg)
		}
		m, err := model.Read()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, m.Holders(false, "Ethernet 2", "192.0.2.100/24")); diff != "" {
			t.Errorf("after netsh %q: holders (-want +got):\n%s", tc.args, diff)
		}
	}
}

// Windows' duplicate address detection: netsh adds an address another
// host holds (exit 0), and the address is configured but never used: one
// holder, and adding it again says it exists. A host that reaches nobody
// (partition, link down) detects nothing. Once the holder lets go, the
// model drops the refused address, so the next add takes it.
func TestNetshDuplicateAddressIsNotUsed(t *testing.T) {
	model, progs := pair(t, quiet())
	add := []string{"interface", "ipv4", "add", "address", "name=Ethernet 2", "address=192.0.2.100", "mask=255.255.255.0", "store=active"}
	del := []string{"interface", "ipv4", "delete", "address", "name=Ethernet 2", "address=192.0.2.100"}
	holders := func() []string {
		t.Helper()
		m, err := model.Read()
		if err != nil {
			t.Fatal(err)
		}
		return m.Holders(false, "Ethernet 2", "192.0.2.100/24")
	}
	step := func(host string, args []string, wantCode int, want []string) {
		t.Helper()
		if out, code := run(t, progs[host][0], args...); code != wantCode {
			t.Fatalf("%s: netsh %q: exit %d %q, want %d", host, args, code, out, wantCode)
		}
		if diff := cmp.Diff(want, holders()); diff != "" {
			t.Fatalf("%s: after netsh %q: holders (-want +got):\n%s", host, args, diff)
		}
	}
	step("rm2", add, 0, []string{"rm2"})
	step("rm1", add, 0, []string{"rm2"}) // refused by detection
	step("rm1", add, 1, []string{"rm2"}) // configured: "The object already exists."
	step("rm2", del, 0, nil)             // the conflict is over: rm1's is dropped
	step("rm1", add, 0, []string{"rm1"})

	// Isolated, detection sees nobody: two holders, as on a split network.
	if _, err := model.Update(func(m *winhost.Model, _ time.Time) error {
		m.Hosts["rm2"].Isolated = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	step("rm2", add, 0, []string{"rm1", "rm2"})
}

// While the NIC's configuration is being accessed, netsh fails and changes
// nothing.
func TestNetshBusyChangesNothing(t *testing.T) {
	cfg := quiet()
	cfg.BusyPercent = 100
	model, progs := pair(t, cfg)
	out, code := run(t, progs["rm2"][0], "interface", "ipv4", "add", "address", "name=Ethernet 2", "address=192.0.2.100", "mask=255.255.255.0")
	if code != 1 || strings.TrimSpace(out) != winhost.MsgBusy {
		t.Errorf("busy netsh: exit %d %q", code, out)
	}
	m, err := model.Read()
	if err != nil {
		t.Fatal(err)
	}
	if hs := m.Holders(false, "Ethernet 2", "192.0.2.100/24"); len(hs) != 0 {
		t.Errorf("a busy netsh changed the adapter: holders %v", hs)
	}
}

// netsh's latency is drawn within its bounds on the model's clock (15 s
// normally, up to 45 s for the slow ones, scaled), and the change is made
// part-way through, so a netsh killed at a deadline may have made it.
func TestNetshLatencyOnTheModelClock(t *testing.T) {
	cfg := quiet()
	cfg.Scale, cfg.SlowPercent, cfg.Seed = 1, 50, 7
	model, _ := pair(t, cfg)
	for i := range 40 {
		var slept []time.Duration
		p := winhost.Program{Model: model, Host: "rm1", Sleep: func(d time.Duration) { slept = append(slept, d) }}
		verb := []string{"add", "delete"}[i%2]
		var out bytes.Buffer
		if code := p.Netsh([]string{"interface", "ipv4", verb, "address", "name=Ethernet 2", "address=192.0.2.100", "mask=255.255.255.0"}, &out); code != 0 {
			t.Fatalf("netsh %s: exit %d %q", verb, code, out.String())
		}
		if len(slept) != 2 {
			t.Fatalf("netsh slept %v, want before and after the change", slept)
		}
		total := slept[0] + slept[1]
		if total < time.Duration(cfg.NetshMin) || total > 45*time.Second || slept[0] < total*3/10 {
			t.Errorf("netsh took %v (change after %v), want 1s..45s with the change after 30%%", total, slept[0])
		}
	}
}

// Every program run takes the model's lock: concurrent runs from both
// hosts lose no update.
func TestConcurrentRunsLoseNothing(t *testing.T) {
	model, progs := pair(t, quiet())
	const n = 24
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := []string{"rm1", "rm2"}[i%2]
			addr := fmt.Sprintf("address=192.0.2.%d", 10+i)
			run(t, progs[h][0], "interface", "ipv4", "add", "address", "name=Ethernet 2", addr, "mask=255.255.255.0")
		}()
	}
	wg.Wait()
	m, err := model.Read()
	if err != nil {
		t.Fatal(err)
	}
	if m.Runs != n {
		t.Errorf("the model counted %d runs, want %d", m.Runs, n)
	}
	if got := len(m.Hosts["rm1"].Adapters["Ethernet 2"]) + len(m.Hosts["rm2"].Adapters["Ethernet 2"]); got != n+2 {
		t.Errorf("%d addresses on the two adapters, want %d", got, n+2)
	}
}

// The nlb backend reads the fake's answers: enable converges this host,
// disable drainstops it, and both show in the shared model.
func TestNLBBackendAgainstTheModel(t *testing.T) {
	model, progs := pair(t, quiet())
	spec := vip.Spec{Name: "rm-vip", Prefix: mustPrefix(t, "192.0.2.100/24")}
	b, err := nlb.New(spec, map[string]any{"program": progs["rm2"][1]})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Enable(ctx, false); err != nil {
		t.Fatal(err)
	}
	if st, err := b.Verify(ctx, true); err != nil || !st.Present {
		t.Fatalf("verify enable: %+v, %v", st, err)
	}
	m, _ := model.Read()
	if diff := cmp.Diff([]string{"rm2"}, m.Holders(true, "", "")); diff != "" {
		t.Errorf("NLB holders after enable (-want +got):\n%s", diff)
	}
	if err := b.Disable(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := b.Observe(ctx); err != nil || st.Present {
		t.Errorf("observe after disable: %+v, %v", st, err)
	}
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Adapter names as Windows allows them (localised, with spaces, `*`,
// parentheses, `#`) reach the fake whole through vipagent's command
// runner: on Windows (under Wine) through CreateProcess's command line and
// CommandLineToArgvW, so the model's adapter is the one named.
func TestNetshAdapterNamesReachTheModel(t *testing.T) {
	for _, name := range []string{"Connexion au réseau local 2", "Подключение по локальной сети", "Local Area Connection* 12", "Ethernet (NLB) #2"} {
		t.Run(name, func(t *testing.T) {
			model, progs := pair(t, quiet())
			if _, err := model.Update(func(m *winhost.Model, _ time.Time) error {
				m.Hosts["rm1"].Adapters[name] = nil
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			argv := []string{progs["rm1"][0], "interface", "ipv4", "add", "address", "name=" + name, "address=192.0.2.100", "mask=255.255.255.0"}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if res, err := command.Run(ctx, argv, command.Options{}); err != nil {
				t.Fatalf("netsh: %v (%s)", err, res.Output)
			}
			m, err := model.Read()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"rm1"}, m.Holders(false, name, "192.0.2.100/24")); diff != "" {
				t.Errorf("holders of %q (-want +got):\n%s", name, diff)
			}
		})
	}
}
