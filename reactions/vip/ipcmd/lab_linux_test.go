package ipcmd

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

// labBackend is a real ip backend whose every call runs inside a lab
// namespace: the programs it starts inherit the namespace of the thread
// that starts them.
type labBackend struct {
	t   *testing.T
	lab *viptest.Lab
	ns  string
	b   *Backend
}

func newLabBackend(t *testing.T, lab *viptest.Lab, node viptest.Node, p netip.Prefix, raw map[string]any) *labBackend {
	t.Helper()
	viptest.RequireProgram(t, "arping", "iputils-arping")
	b, err := New(vip.Spec{Name: "rm", Prefix: p, Interface: viptest.Interface}, raw)
	if err != nil {
		t.Fatal(err)
	}
	return &labBackend{t: t, lab: lab, ns: node.Name, b: b}
}

func (l *labBackend) in(f func(ctx context.Context) error) error {
	h := l.lab.Namespace(l.t, l.ns)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return viptest.RunIn(h, func() error { return f(ctx) })
}

func (l *labBackend) enable(force bool) error {
	return l.in(func(ctx context.Context) error { return l.b.Enable(ctx, force) })
}

func (l *labBackend) disable() error {
	return l.in(func(ctx context.Context) error { return l.b.Disable(ctx) })
}

func (l *labBackend) observe() reactions.VIPState {
	l.t.Helper()
	var st reactions.VIPState
	err := l.in(func(ctx context.Context) error {
		var err error
		st, err = l.b.Observe(ctx)
		return err
	})
	if err != nil {
		l.t.Fatalf("Observe: %v", err)
	}
	return st
}

func (l *labBackend) check(p netip.Prefix, want bool) {
	l.t.Helper()
	if st := l.observe(); st.Present != want {
		l.t.Errorf("Observe in %s: present = %v, want %v (%s)", l.ns, st.Present, want, st.Detail)
	}
	if got := l.lab.HasAddress(l.t, l.ns, p); got != want {
		l.t.Errorf("ip -o addr show in %s lists %s = %v, want %v: %q", l.ns, p, got, want, l.lab.Addresses(l.t, l.ns))
	}
}

func TestLabEnableDisable(t *testing.T) {
	for _, p := range []netip.Prefix{viptest.VIP4, viptest.VIP6} {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			lab := viptest.Up(t)
			b := newLabBackend(t, lab, lab.RM1, p, map[string]any{"garp_count": 1})
			b.check(p, false)
			if err := b.enable(false); err != nil {
				t.Fatalf("Enable: %v", err)
			}
			b.check(p, true)
			if err := b.enable(true); err != nil {
				t.Fatalf("second Enable: %v", err)
			}
			b.check(p, true)
			if err := b.disable(); err != nil {
				t.Fatalf("Disable: %v", err)
			}
			b.check(p, false)
			if err := b.disable(); err != nil {
				t.Fatalf("second Disable: %v", err)
			}
			b.check(p, false)
		})
	}
}

// TestLabArpingMovesClient checks that arping -U updates the client's
// neighbour cache when the VIP moves from rm1 to rm2.
func TestLabArpingMovesClient(t *testing.T) {
	t.Parallel()
	lab := viptest.Up(t)
	raw := map[string]any{"garp_count": 1}
	rm1 := newLabBackend(t, lab, lab.RM1, viptest.VIP4, raw)
	rm2 := newLabBackend(t, lab, lab.RM2, viptest.VIP4, raw)
	vipAddr := viptest.VIP4.Addr()

	if err := rm1.enable(false); err != nil {
		t.Fatalf("Enable on rm1: %v", err)
	}
	lab.Ping(t, lab.Client.Name, vipAddr)
	if got := lab.NeighbourMAC(t, lab.Client.Name, vipAddr); got != lab.RM1.MAC.String() {
		t.Fatalf("client caches %s at %q, want rm1's %s", vipAddr, got, lab.RM1.MAC)
	}
	if err := rm1.disable(); err != nil {
		t.Fatalf("Disable on rm1: %v", err)
	}
	if err := rm2.enable(false); err != nil {
		t.Fatalf("Enable on rm2: %v", err)
	}
	if got, ok := lab.WaitNeighbourMAC(t, lab.Client.Name, vipAddr, lab.RM2.MAC, time.Second); !ok {
		t.Fatalf("client still caches %s at %q, want rm2's %s", vipAddr, got, lab.RM2.MAC)
	}
}

func TestLabDuplicateGuard(t *testing.T) {
	for _, p := range []netip.Prefix{viptest.VIP4, viptest.VIP6} {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			lab := viptest.Up(t)
			raw := map[string]any{"garp_count": 1}
			rm1 := newLabBackend(t, lab, lab.RM1, p, raw)
			rm2 := newLabBackend(t, lab, lab.RM2, p, raw)
			if err := rm1.enable(true); err != nil {
				t.Fatalf("Enable on rm1: %v", err)
			}
			err := rm2.enable(false)
			if !errors.Is(err, reactions.ErrDuplicateAddress) {
				t.Fatalf("Enable on rm2 = %v, want ErrDuplicateAddress", err)
			}
			// The kernel's IPv6 duplicate address detection does not say
			// who answered; arping does.
			if p.Addr().Is4() && !strings.Contains(err.Error(), lab.RM1.MAC.String()) {
				t.Errorf("error %q does not name rm1's MAC %s", err, lab.RM1.MAC)
			}
			rm2.check(p, false)
			if err := rm2.enable(true); err != nil {
				t.Fatalf("forced Enable on rm2: %v", err)
			}
			rm2.check(p, true)
		})
	}
}

// Announce only what you hold, in a real lab: rm1 is still announcing
// (arping, one frame a second) when the address is removed behind its back
// and rm2 takes the VIP. None of rm1's remaining frames may reach the
// client, whose neighbour entry must never flip back to rm1.
func TestLabAnnouncementsStopWhenAddressLeaves(t *testing.T) {
	t.Parallel()
	lab := viptest.Up(t)
	const count = 6 // six seconds of announcing, longer than rm2's enable
	rm1 := newLabBackend(t, lab, lab.RM1, viptest.VIP4, map[string]any{"garp_count": count})
	rm2 := newLabBackend(t, lab, lab.RM2, viptest.VIP4, map[string]any{"garp_count": 1})
	vipAddr := viptest.VIP4.Addr()

	enabled := make(chan error, 1)
	go func() { enabled <- rm1.enable(false) }()
	// The first frame follows the add; wait for the client to have it.
	deadline := time.Now().Add(5 * time.Second)
	for !lab.HasAddress(t, lab.RM1.Name, viptest.VIP4) {
		if time.Now().After(deadline) {
			t.Fatal("rm1 never added the VIP")
		}
		time.Sleep(10 * time.Millisecond)
	}
	lab.Ping(t, lab.Client.Name, vipAddr)
	if got := lab.NeighbourMAC(t, lab.Client.Name, vipAddr); got != lab.RM1.MAC.String() {
		t.Fatalf("client caches %s at %q, want rm1's %s", vipAddr, got, lab.RM1.MAC)
	}
	// Not through the backend: a person or another tool.
	lab.MustExec(t, lab.RM1.Name, "ip", "addr", "del", viptest.VIP4.String(), "dev", viptest.Interface)
	if err := rm2.enable(false); err != nil {
		t.Fatalf("Enable on rm2: %v", err)
	}
	if got, ok := lab.WaitNeighbourMAC(t, lab.Client.Name, vipAddr, lab.RM2.MAC, time.Second); !ok {
		t.Fatalf("client caches %s at %q, want rm2's %s", vipAddr, got, lab.RM2.MAC)
	}
	// Until rm1's enable returns (it would have announced for count
	// seconds), and a second more, the client stays with rm2.
	for done := false; !done; {
		select {
		case err := <-enabled:
			if err != nil {
				t.Errorf("Enable on rm1: %v", err)
			}
			done = true
		case <-time.After(10 * time.Millisecond):
		}
		if got := lab.NeighbourMAC(t, lab.Client.Name, vipAddr); got != lab.RM2.MAC.String() {
			t.Fatalf("client's entry for %s flipped to %q (rm1 is %s): rm1 announced an address it no longer holds", vipAddr, got, lab.RM1.MAC)
		}
	}
	lab.Ping(t, lab.Client.Name, vipAddr)
}
