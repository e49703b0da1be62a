package netlinkvip

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

var families = []struct {
	name string
	vip  netip.Prefix
}{
	{name: "ipv4", vip: viptest.VIP4},
	{name: "ipv6", vip: viptest.VIP6},
}

func newBackend(t *testing.T, lab *viptest.Lab, node viptest.Node, p netip.Prefix, raw map[string]any) *Backend {
	t.Helper()
	spec := vip.Spec{Name: "rm", Prefix: p, Interface: viptest.Interface}
	b, err := NewInNamespace(spec, raw, lab.Namespace(t, node.Name))
	if err != nil {
		t.Fatalf("NewInNamespace: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func observe(t *testing.T, b *Backend) reactions.VIPState {
	t.Helper()
	st, err := b.Observe(context.Background())
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	return st
}

// checkState compares the backend's view and ip's view with want.
func checkState(t *testing.T, lab *viptest.Lab, node viptest.Node, b *Backend, p netip.Prefix, want bool) {
	t.Helper()
	st := observe(t, b)
	if st.Present != want {
		t.Errorf("Observe in %s: present = %v, want %v (%s)", node.Name, st.Present, want, st.Detail)
	}
	if got := lab.HasAddress(t, node.Name, p); got != want {
		t.Errorf("ip -o addr show in %s lists %s = %v, want %v: %q", node.Name, p, got, want, lab.Addresses(t, node.Name))
	}
}

func TestEnableDisable(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			t.Parallel()
			lab := viptest.Up(t)
			b := newBackend(t, lab, lab.RM1, fam.vip, map[string]any{"probe_timeout": "50ms"})
			ctx := context.Background()

			checkState(t, lab, lab.RM1, b, fam.vip, false)
			if err := b.Enable(ctx, false); err != nil {
				t.Fatalf("Enable: %v", err)
			}
			checkState(t, lab, lab.RM1, b, fam.vip, true)
			if st := observe(t, b); !strings.Contains(st.Detail, fam.vip.String()) || !strings.Contains(st.Detail, lab.RM1.MAC.String()) {
				t.Errorf("Detail %q does not show %s and the MAC %s", st.Detail, fam.vip, lab.RM1.MAC)
			}
			// The engine's second enable observes "present" and stops there;
			// an Enable anyway must not break anything.
			if err := b.Enable(ctx, true); err != nil {
				t.Fatalf("second Enable: %v", err)
			}
			checkState(t, lab, lab.RM1, b, fam.vip, true)
			if err := b.Disable(ctx); err != nil {
				t.Fatalf("Disable: %v", err)
			}
			checkState(t, lab, lab.RM1, b, fam.vip, false)
			if err := b.Disable(ctx); err != nil {
				t.Fatalf("second Disable: %v", err)
			}
			checkState(t, lab, lab.RM1, b, fam.vip, false)
			// The node's own addresses are untouched.
			if !lab.HasAddress(t, lab.RM1.Name, lab.RM1.Addr4) || !lab.HasAddress(t, lab.RM1.Name, lab.RM1.Addr6) {
				t.Errorf("rm1 lost its own addresses: %q", lab.Addresses(t, lab.RM1.Name))
			}
		})
	}
}

// TestAnnounceMovesClient moves the VIP from rm1 to rm2 and checks that the
// client's neighbour cache follows at once. Only the first announcement can
// do it within the poll: the others are ten seconds apart.
func TestAnnounceMovesClient(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			t.Parallel()
			lab := viptest.Up(t)
			raw := map[string]any{"garp_interval": "10s", "probe_timeout": "100ms"}
			rm1 := newBackend(t, lab, lab.RM1, fam.vip, raw)
			rm2 := newBackend(t, lab, lab.RM2, fam.vip, raw)
			ctx := context.Background()
			vipAddr := fam.vip.Addr()

			if err := rm1.Enable(ctx, false); err != nil {
				t.Fatalf("Enable on rm1: %v", err)
			}
			lab.Ping(t, lab.Client.Name, vipAddr)
			if got := lab.NeighbourMAC(t, lab.Client.Name, vipAddr); got != lab.RM1.MAC.String() {
				t.Fatalf("client caches %s at %q, want rm1's %s", vipAddr, got, lab.RM1.MAC)
			}

			if err := rm1.Disable(ctx); err != nil {
				t.Fatalf("Disable on rm1: %v", err)
			}
			if err := rm2.Enable(ctx, false); err != nil {
				t.Fatalf("Enable on rm2: %v", err)
			}
			if got, ok := lab.WaitNeighbourMAC(t, lab.Client.Name, vipAddr, lab.RM2.MAC, time.Second); !ok {
				t.Fatalf("client still caches %s at %q, want rm2's %s", vipAddr, got, lab.RM2.MAC)
			}
			lab.Ping(t, lab.Client.Name, vipAddr)
		})
	}
}

func TestDuplicateGuard(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			t.Parallel()
			lab := viptest.Up(t)
			rm1 := newBackend(t, lab, lab.RM1, fam.vip, nil)
			rm2 := newBackend(t, lab, lab.RM2, fam.vip, nil)
			ctx := context.Background()
			if err := rm1.Enable(ctx, true); err != nil {
				t.Fatalf("Enable on rm1: %v", err)
			}

			start := time.Now()
			err := rm2.Enable(ctx, false)
			if !errors.Is(err, reactions.ErrDuplicateAddress) {
				t.Fatalf("Enable on rm2 = %v, want ErrDuplicateAddress", err)
			}
			if !strings.Contains(err.Error(), lab.RM1.MAC.String()) {
				t.Errorf("error %q does not name rm1's MAC %s", err, lab.RM1.MAC)
			}
			if d := time.Since(start); d > 250*time.Millisecond {
				t.Errorf("refusal took %v; the answer should end the probe at once", d)
			}
			checkState(t, lab, lab.RM2, rm2, fam.vip, false)

			if err := rm2.Enable(ctx, true); err != nil {
				t.Fatalf("forced Enable on rm2: %v", err)
			}
			checkState(t, lab, lab.RM2, rm2, fam.vip, true)
		})
	}
}

func TestEnableHonoursContext(t *testing.T) {
	lab := viptest.Up(t)
	b := newBackend(t, lab, lab.RM1, viptest.VIP4, map[string]any{"probe_timeout": "10s"})

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := b.Enable(ctx, false)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enable = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Enable returned after %v; the deadline was 100ms", d)
	}
	checkState(t, lab, lab.RM1, b, viptest.VIP4, false)

	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := b.Enable(cancelled, true); !errors.Is(err, context.Canceled) {
		t.Fatalf("Enable with a cancelled context = %v, want Canceled", err)
	}
	checkState(t, lab, lab.RM1, b, viptest.VIP4, false)
}

// TestCloseStopsAnnouncements leaves a long announcement train running;
// Close must stop it promptly (and TestMain's goleak finds any leftover).
func TestCloseStopsAnnouncements(t *testing.T) {
	lab := viptest.Up(t)
	spec := vip.Spec{Name: "rm", Prefix: viptest.VIP4, Interface: viptest.Interface}
	b, err := NewInNamespace(spec, map[string]any{"garp_count": 100, "garp_interval": "20ms"}, lab.Namespace(t, lab.RM1.Name))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Enable(context.Background(), true); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	time.Sleep(70 * time.Millisecond)
	if st := observe(t, b); !strings.Contains(st.Detail, "announced") || strings.Contains(st.Detail, "announced 1/") {
		t.Errorf("Detail %q: want announcements beyond the first under way", st.Detail)
	}
	start := time.Now()
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Close took %v", d)
	}
	if err := b.Enable(context.Background(), true); err == nil {
		t.Errorf("Enable after Close succeeded")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestDisableStopsAnnouncements: rm2's backend exists while rm1 announces
// every 10ms, then rm1 disables. rm2's probe counts any ARP frame with the
// VIP as sender as a claim, so it fails if rm1 goes on announcing, or if
// rm2's cached socket kept an announcement from before.
func TestDisableStopsAnnouncements(t *testing.T) {
	lab := viptest.Up(t)
	rm1 := newBackend(t, lab, lab.RM1, viptest.VIP4, map[string]any{"garp_count": 100, "garp_interval": "10ms"})
	rm2 := newBackend(t, lab, lab.RM2, viptest.VIP4, map[string]any{"probe_timeout": "100ms"})
	ctx := context.Background()
	if err := rm1.Enable(ctx, true); err != nil {
		t.Fatalf("Enable on rm1: %v", err)
	}
	if _, err := rm2.Observe(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := rm1.Disable(ctx); err != nil {
		t.Fatalf("Disable on rm1: %v", err)
	}
	if err := rm2.Enable(ctx, false); err != nil {
		t.Fatalf("Enable on rm2 after rm1's disable: %v", err)
	}
}

// TestDisableRemovesHandMadeAddress: a person added the VIP by hand with
// another prefix length; disable still takes it off.
func TestDisableRemovesHandMadeAddress(t *testing.T) {
	lab := viptest.Up(t)
	b := newBackend(t, lab, lab.RM1, viptest.VIP4, nil)
	lab.MustExec(t, lab.RM1.Name, "ip", "addr", "add", "192.0.2.100/32", "dev", viptest.Interface)
	if st := observe(t, b); !st.Present {
		t.Fatalf("Observe: VIP added by hand not seen: %s", st.Detail)
	}
	if err := b.Disable(context.Background()); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	checkState(t, lab, lab.RM1, b, netip.MustParsePrefix("192.0.2.100/32"), false)
}

// TestReleasedEnableStillProbes: the short probe used after a verified
// release still refuses when the VIP is in fact still held, and its wait is
// the released_probe_timeout, not the probe_timeout.
func TestReleasedEnableStillProbes(t *testing.T) {
	lab := viptest.Up(t)
	rm1 := newBackend(t, lab, lab.RM1, viptest.VIP4, nil)
	rm2 := newBackend(t, lab, lab.RM2, viptest.VIP4, map[string]any{"probe_timeout": "5s", "released_probe_timeout": "100ms"})
	ctx := context.Background()
	if err := rm1.Enable(ctx, true); err != nil {
		t.Fatalf("Enable on rm1: %v", err)
	}
	err := rm2.EnableReleased(ctx)
	if !errors.Is(err, reactions.ErrDuplicateAddress) || !strings.Contains(err.Error(), lab.RM1.MAC.String()) {
		t.Fatalf("EnableReleased while rm1 holds the VIP: %v", err)
	}
	if err := rm1.Disable(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := rm2.EnableReleased(ctx); err != nil {
		t.Fatalf("EnableReleased after rm1's disable: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("EnableReleased waited %s: it used probe_timeout", d)
	}
	checkState(t, lab, lab.RM2, rm2, viptest.VIP4, true)
}

// Announce only what you hold: rm1 is still announcing when the address is
// removed behind the agent's back and rm2 takes the VIP; none of rm1's
// remaining announcements may reach the client, whose neighbour entry must
// never flip back to rm1.
func TestAnnouncementsStopWhenAddressLeaves(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			t.Parallel()
			lab := viptest.Up(t)
			const count, interval = 20, 50 * time.Millisecond
			rm1 := newBackend(t, lab, lab.RM1, fam.vip, map[string]any{"garp_count": count, "garp_interval": interval.String(), "probe_timeout": "100ms"})
			rm2 := newBackend(t, lab, lab.RM2, fam.vip, map[string]any{"garp_count": 1, "probe_timeout": "100ms"})
			ctx := context.Background()
			vipAddr := fam.vip.Addr()

			if err := rm1.Enable(ctx, false); err != nil {
				t.Fatalf("Enable on rm1: %v", err)
			}
			lab.Ping(t, lab.Client.Name, vipAddr)
			if got := lab.NeighbourMAC(t, lab.Client.Name, vipAddr); got != lab.RM1.MAC.String() {
				t.Fatalf("client caches %s at %q, want rm1's %s", vipAddr, got, lab.RM1.MAC)
			}
			// Not through the backend: a person or another tool.
			lab.MustExec(t, lab.RM1.Name, "ip", "addr", "del", fam.vip.String(), "dev", viptest.Interface)
			if err := rm2.Enable(ctx, false); err != nil {
				t.Fatalf("Enable on rm2: %v", err)
			}
			if got, ok := lab.WaitNeighbourMAC(t, lab.Client.Name, vipAddr, lab.RM2.MAC, time.Second); !ok {
				t.Fatalf("client caches %s at %q, want rm2's %s", vipAddr, got, lab.RM2.MAC)
			}
			// rm1 would have gone on announcing for count×interval.
			for end := time.Now().Add(count * interval); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
				if got := lab.NeighbourMAC(t, lab.Client.Name, vipAddr); got != lab.RM2.MAC.String() {
					t.Fatalf("client's entry for %s flipped to %q (rm1 is %s): rm1 announced an address it no longer holds", vipAddr, got, lab.RM1.MAC)
				}
			}
			if st := observe(t, rm1); st.Present || !strings.Contains(st.Detail, "announcements stopped") {
				t.Errorf("rm1: present %v, detail %q; want absent and the announcements stopped", st.Present, st.Detail)
			}
			lab.Ping(t, lab.Client.Name, vipAddr)
		})
	}
}
