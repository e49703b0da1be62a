package netlinkvip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/netnsrun"
)

// netlinkTimeout bounds one netlink request; the kernel answers in
// microseconds, so hitting it means something is badly wrong.
const netlinkTimeout = 2 * time.Second

var (
	allNodes = netip.MustParseAddr("ff02::1")
	// The cached packet socket receives nothing (dropAll) except while a
	// probe listens (acceptAll): it must not queue the interface's traffic.
	dropAll   = mustAssemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	acceptAll = mustAssemble([]bpf.Instruction{bpf.RetConstant{Val: 1 << 16}})
)

// Backend moves one VIP on a Linux interface.
type Backend struct {
	spec vip.Spec
	set  settings
	addr netip.Addr
	// ns is the network namespace sockets are opened in; not open means the
	// namespace the process runs in.
	ns netns.NsHandle
	h  *netlink.Handle

	// actMu serialises Enable, Disable and Close.
	actMu sync.Mutex

	mu sync.Mutex
	// conn is the cached raw socket for probes and announcements. Closing
	// a packet socket waits for the kernel's RCU grace period (10-20 ms),
	// far too slow for the move itself, so it is opened once and kept.
	conn      *packet.Conn
	connIndex int
	stop      context.CancelFunc // stops the background announcements
	announced string             // how the last announcement went, for Observe
	closed    bool
	wg        sync.WaitGroup
}

// New returns a netlink backend for spec in the process's network
// namespace. Close releases its sockets.
func New(spec vip.Spec, raw map[string]any) (*Backend, error) {
	return NewInNamespace(spec, raw, netns.None())
}

// NewInNamespace returns a netlink backend that acts in the network
// namespace ns, for tests and benchmarks that run several "hosts" in one
// process. The handle is duplicated, so the caller may close ns at once.
func NewInNamespace(spec vip.Spec, raw map[string]any, ns netns.NsHandle) (*Backend, error) {
	set, err := parseOptions(spec, raw)
	if err != nil {
		return nil, err
	}
	b := &Backend{spec: spec, set: set, addr: spec.Prefix.Addr().Unmap(), ns: netns.None()}
	if ns.IsOpen() {
		fd, dupErr := unix.FcntlInt(uintptr(ns), unix.F_DUPFD_CLOEXEC, 0)
		if dupErr != nil {
			return nil, fmt.Errorf("netlink backend: duplicate namespace handle: %w", dupErr)
		}
		b.ns = netns.NsHandle(fd)
		b.h, err = netlink.NewHandleAt(b.ns, unix.NETLINK_ROUTE)
	} else {
		b.h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	}
	if err != nil {
		b.ns.Close()
		return nil, fmt.Errorf("netlink backend: open netlink socket: %w", err)
	}
	if err := b.h.SetSocketTimeout(netlinkTimeout); err != nil {
		b.h.Close()
		b.ns.Close()
		return nil, fmt.Errorf("netlink backend: %w", err)
	}
	// Open the packet socket now when the interface is there, so the first
	// move does not pay for it. Failing here is not fatal: the interface
	// may come later, and Enable reports what goes wrong then.
	if _, ifi, err := b.link(); err == nil {
		b.mu.Lock()
		_, _ = b.connLocked(ifi)
		b.mu.Unlock()
	}
	return b, nil
}

// Close stops the background announcements, waits for them and releases
// the sockets. The backend is unusable afterwards.
func (b *Backend) Close() error {
	b.actMu.Lock()
	defer b.actMu.Unlock()
	b.stopAnnouncing()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	var err error
	if b.conn != nil {
		err = b.conn.Close()
		b.conn = nil
	}
	b.h.Close()
	b.ns.Close()
	return err
}

func (b *Backend) family() int {
	if b.addr.Is4() {
		return netlink.FAMILY_V4
	}
	return netlink.FAMILY_V6
}

func (b *Backend) checkOpen() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errors.New("netlink backend is closed")
	}
	return nil
}

// link looks the interface up by name on every call, so a recreated
// interface (new index, new MAC) is picked up.
func (b *Backend) link() (netlink.Link, *net.Interface, error) {
	l, err := b.h.LinkByName(b.spec.Interface)
	if err != nil {
		return nil, nil, fmt.Errorf("interface %s: %w", b.spec.Interface, err)
	}
	a := l.Attrs()
	return l, &net.Interface{Index: a.Index, Name: a.Name, MTU: a.MTU, HardwareAddr: a.HardwareAddr, Flags: a.Flags}, nil
}

// Observe reports whether the VIP is on the interface. An IPv6 address
// whose duplicate address detection failed does not count: the kernel will
// not use it.
func (b *Backend) Observe(ctx context.Context) (reactions.VIPState, error) {
	if err := ctx.Err(); err != nil {
		return reactions.VIPState{}, err
	}
	if err := b.checkOpen(); err != nil {
		return reactions.VIPState{}, err
	}
	l, ifi, err := b.link()
	if err != nil {
		return reactions.VIPState{}, fmt.Errorf("observe vip %s: %w", b.addr, err)
	}
	addrs, err := b.h.AddrList(l, b.family())
	if err != nil {
		return reactions.VIPState{}, fmt.Errorf("observe vip %s on %s: list addresses: %w", b.addr, b.spec.Interface, err)
	}
	var st reactions.VIPState
	list := make([]string, 0, len(addrs))
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ones, _ := a.Mask.Size()
		s := netip.PrefixFrom(ip.Unmap(), ones).String()
		if a.Flags&unix.IFA_F_TENTATIVE != 0 {
			s += " tentative"
		}
		if a.Flags&unix.IFA_F_DADFAILED != 0 {
			s += " dadfailed"
		}
		list = append(list, s)
		if ip.Unmap() == b.addr && a.Flags&unix.IFA_F_DADFAILED == 0 {
			st.Present = true
		}
	}
	state := "down"
	if ifi.Flags&net.FlagUp != 0 {
		state = "up"
	}
	st.Detail = fmt.Sprintf("%s %s %s: %s", ifi.Name, ifi.HardwareAddr, state, strings.Join(list, ", "))
	b.mu.Lock()
	if b.announced != "" {
		st.Detail += "; " + b.announced
	}
	b.mu.Unlock()
	return st, nil
}

// Enable probes for another owner of the VIP (unless force), adds it and
// sends the first announcement before returning; the others follow in the
// background until Disable or Close.
func (b *Backend) Enable(ctx context.Context, force bool) error {
	return b.enable(ctx, force, b.set.probeTimeout)
}

// EnableReleased enables the VIP right after another node's agent verified
// that it removed it: the duplicate probe only has to catch a third host,
// so it waits released_probe_timeout instead of probe_timeout.
func (b *Backend) EnableReleased(ctx context.Context) error {
	return b.enable(ctx, false, b.set.releasedProbeTimeout)
}

func (b *Backend) enable(ctx context.Context, force bool, probeTimeout time.Duration) error {
	b.actMu.Lock()
	defer b.actMu.Unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("enable vip %s on %s: %w", b.addr, b.spec.Interface, err)
	}
	if err := b.checkOpen(); err != nil {
		return err
	}
	l, ifi, err := b.link()
	if err != nil {
		return fmt.Errorf("enable vip %s: %w", b.addr, err)
	}
	// Announcements of an earlier enable use the socket the probe may
	// replace; this enable announces afresh anyway.
	b.stopAnnouncing()
	if !force {
		mac, err := b.probe(ctx, ifi, probeTimeout)
		if err != nil {
			return fmt.Errorf("enable vip %s on %s: probe: %w", b.addr, b.spec.Interface, err)
		}
		if mac != nil {
			return fmt.Errorf("enable vip %s on %s: %w: %s answers for it", b.addr, b.spec.Interface, reactions.ErrDuplicateAddress, mac)
		}
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: b.addr.AsSlice(), Mask: net.CIDRMask(b.spec.Prefix.Bits(), b.addr.BitLen())}}
	if b.addr.Is6() {
		// We probed already (or were told to force): without NODAD the
		// address would stay tentative, unusable, for a second or more.
		a.Flags = unix.IFA_F_NODAD
	}
	// Replace, not add: an address already there is success.
	if err := b.h.AddrReplace(l, a); err != nil {
		return fmt.Errorf("enable vip %s on %s: add address: %w", b.addr, b.spec.Interface, err)
	}
	if err := b.announce(ifi); err != nil {
		// Nobody was told: take the address away again, so that a
		// failed step leaves nothing held and a retry does not find it
		// present and call it unchanged.
		if derr := b.h.AddrDel(l, a); derr != nil && !errors.Is(derr, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("enable vip %s on %s: announce: %w (and removing the address again failed: %v)", b.addr, b.spec.Interface, err, derr)
		}
		return fmt.Errorf("enable vip %s on %s: announce: %w; the address was removed again", b.addr, b.spec.Interface, err)
	}
	return nil
}

// Disable stops any announcements still going out and removes the VIP; an
// absent VIP is success.
func (b *Backend) Disable(ctx context.Context) error {
	b.actMu.Lock()
	defer b.actMu.Unlock()
	// Stop announcing first: a late announcement after the address is gone
	// would pull clients back to this host.
	b.stopAnnouncing()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("disable vip %s on %s: %w", b.addr, b.spec.Interface, err)
	}
	if err := b.checkOpen(); err != nil {
		return err
	}
	l, _, err := b.link()
	if err != nil {
		return fmt.Errorf("disable vip %s: %w", b.addr, err)
	}
	addrs, err := b.h.AddrList(l, b.family())
	if err != nil {
		return fmt.Errorf("disable vip %s on %s: list addresses: %w", b.addr, b.spec.Interface, err)
	}
	// Remove the VIP whatever prefix length someone gave it by hand, so
	// that the verification after this step finds it gone.
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); !ok || ip.Unmap() != b.addr {
			continue
		}
		if err := b.h.AddrDel(l, &a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("disable vip %s on %s: delete address: %w", b.addr, b.spec.Interface, err)
		}
	}
	return nil
}

// inNamespace runs f inside ns when ns is open, so that the sockets f
// opens belong to ns; otherwise in the current namespace.
func inNamespace(ns netns.NsHandle, f func() error) error {
	if !ns.IsOpen() {
		return f()
	}
	return netnsrun.Run(ns, f)
}

func mustAssemble(prog []bpf.Instruction) []bpf.RawInstruction {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		panic(err)
	}
	return raw
}
