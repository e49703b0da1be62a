package netlinkvip

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// Gratuitous ARP / unsolicited NA announcements and the duplicate-address
// probe: the frames the backend sends and reads.

// stopAnnouncing cancels the background announcements and waits for them.
func (b *Backend) stopAnnouncing() {
	b.mu.Lock()
	stop := b.stop
	b.stop = nil
	b.mu.Unlock()
	if stop != nil {
		stop()
	}
	b.wg.Wait()
}

// announce sends the first announcement now and the rest from a goroutine.
func (b *Backend) announce(ifi *net.Interface) error {
	b.stopAnnouncing()
	if b.set.garpCount == 0 {
		return nil
	}
	frames, err := b.announcement(ifi.HardwareAddr)
	if err != nil {
		return err
	}
	if !b.holds() {
		return fmt.Errorf("%s left %s before the first announcement", b.addr, b.spec.Interface)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	conn, err := b.connLocked(ifi)
	if err != nil {
		return err
	}
	if err := sendAll(conn, frames); err != nil {
		// Maybe a stale socket (see probe): once more on a fresh one.
		_ = conn.Close()
		b.conn = nil
		if conn, err = b.connLocked(ifi); err != nil {
			return err
		}
		if err := sendAll(conn, frames); err != nil {
			return err
		}
	}
	b.announced = fmt.Sprintf("announced 1/%d", b.set.garpCount)
	if b.set.garpCount == 1 {
		return nil
	}
	ctx, stop := context.WithCancel(context.Background())
	b.stop = stop
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer stop()
		t := time.NewTicker(b.set.garpInterval)
		defer t.Stop()
		for i := 2; i <= b.set.garpCount; i++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// Announce only what we hold: the address may have left the
			// interface by any means (a person, another tool, a move back)
			// since the last frame; an announcement now would point
			// clients at a host that no longer answers.
			if !b.holds() {
				b.mu.Lock()
				b.announced = fmt.Sprintf("announcements stopped after %d/%d: %s left %s", i-1, b.set.garpCount, b.addr, b.spec.Interface)
				b.mu.Unlock()
				return
			}
			err := sendAll(conn, frames)
			b.mu.Lock()
			if err != nil {
				// Nobody waits for this goroutine's result: Observe shows it.
				b.announced = fmt.Sprintf("announcement %d/%d failed: %v", i, b.set.garpCount, err)
				b.mu.Unlock()
				return
			}
			b.announced = fmt.Sprintf("announced %d/%d", i, b.set.garpCount)
			b.mu.Unlock()
		}
	}()
	return nil
}

// holds reports whether the VIP is on the interface now (and not failed
// by duplicate address detection).
func (b *Backend) holds() bool {
	st, err := b.Observe(context.Background())
	return err == nil && st.Present
}

func sendAll(conn *packet.Conn, frames [][]byte) error {
	for _, f := range frames {
		// Every frame here is a broadcast or multicast; the destination
		// in the frame header is what counts for a raw socket.
		dst := net.HardwareAddr(f[0:6])
		if _, err := conn.WriteTo(f, &packet.Addr{HardwareAddr: dst}); err != nil {
			return err
		}
	}
	return nil
}

// connLocked returns the cached packet socket for ifi, reopening it when
// the interface was recreated. The caller holds b.mu and has stopped the
// announcements, which use the socket without the lock.
func (b *Backend) connLocked(ifi *net.Interface) (*packet.Conn, error) {
	if b.conn != nil && b.connIndex == ifi.Index {
		return b.conn, nil
	}
	if b.conn != nil {
		_ = b.conn.Close()
		b.conn = nil
	}
	conn, err := b.listen(ifi, &packet.Config{Filter: dropAll})
	if err != nil {
		return nil, err
	}
	b.conn, b.connIndex = conn, ifi.Index
	return conn, nil
}

// drain discards every frame queued on conn without blocking.
func drain(conn *packet.Conn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	buf := make([]byte, 2048)
	var rerr error
	err = rc.Control(func(fd uintptr) {
		for {
			_, _, err := unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
			if err == unix.EAGAIN || err == unix.EWOULDBLOCK {
				return
			}
			if err != nil && err != unix.EINTR {
				rerr = err
				return
			}
		}
	})
	return errors.Join(err, rerr)
}

func (b *Backend) etherType() ethernet.EtherType {
	if b.addr.Is4() {
		return ethernet.EtherTypeARP
	}
	return ethernet.EtherTypeIPv6
}

// listen opens a raw packet socket on ifi in the backend's namespace.
func (b *Backend) listen(ifi *net.Interface, cfg *packet.Config) (*packet.Conn, error) {
	var conn *packet.Conn
	err := inNamespace(b.ns, func() error {
		var err error
		conn, err = packet.Listen(ifi, packet.Raw, int(b.etherType()), cfg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open packet socket on %s: %w", ifi.Name, err)
	}
	return conn, nil
}

// announcement builds the frames of one announcement round: gratuitous ARP
// in request and reply form for IPv4 (Linux lets only the request form
// override a recently confirmed neighbour; some other stacks only heed
// replies), an unsolicited Neighbour Advertisement with the override flag
// for IPv6.
func (b *Backend) announcement(mac net.HardwareAddr) ([][]byte, error) {
	if b.addr.Is4() {
		var frames [][]byte
		for _, op := range []arp.Operation{arp.OperationRequest, arp.OperationReply} {
			target := ethernet.Broadcast
			if op == arp.OperationRequest {
				target = net.HardwareAddr{0, 0, 0, 0, 0, 0}
			}
			p, err := arp.NewPacket(op, mac, b.addr, target, b.addr)
			if err != nil {
				return nil, err
			}
			f, err := arpFrame(p, ethernet.Broadcast)
			if err != nil {
				return nil, err
			}
			frames = append(frames, f)
		}
		return frames, nil
	}
	na := &ndp.NeighborAdvertisement{
		Override:      true,
		TargetAddress: b.addr,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: mac}},
	}
	f, err := ndpFrame(na, mac, b.addr, allNodes)
	if err != nil {
		return nil, err
	}
	return [][]byte{f}, nil
}

func arpFrame(p *arp.Packet, dst net.HardwareAddr) ([]byte, error) {
	pb, err := p.MarshalBinary()
	if err != nil {
		return nil, err
	}
	f := &ethernet.Frame{Destination: dst, Source: p.SenderHardwareAddr, EtherType: ethernet.EtherTypeARP, Payload: pb}
	return f.MarshalBinary()
}

// ndpFrame wraps an NDP message in IPv6 (hop limit 255, as RFC 4861
// requires) and Ethernet, addressed to the multicast group dst.
func ndpFrame(m ndp.Message, mac net.HardwareAddr, src, dst netip.Addr) ([]byte, error) {
	icmp, err := ndp.MarshalMessageChecksum(m, src, dst)
	if err != nil {
		return nil, err
	}
	ip := make([]byte, 40, 40+len(icmp))
	ip[0] = 6 << 4
	binary.BigEndian.PutUint16(ip[4:6], uint16(len(icmp)))
	ip[6] = 58 // ICMPv6
	ip[7] = ndp.HopLimit
	s, d := src.As16(), dst.As16()
	copy(ip[8:24], s[:])
	copy(ip[24:40], d[:])
	ip = append(ip, icmp...)
	// RFC 2464: multicast to 33:33 and the group's last four bytes.
	eth := net.HardwareAddr{0x33, 0x33, d[12], d[13], d[14], d[15]}
	f := &ethernet.Frame{Destination: eth, Source: mac, EtherType: ethernet.EtherTypeIPv6, Payload: ip}
	return f.MarshalBinary()
}

// probe asks whether another host answers for the VIP and returns its MAC,
// or nil when none answered within the probe timeout. IPv4 sends an RFC
// 5227 ARP probe (sender 0.0.0.0); IPv6 sends a duplicate address detection
// Neighbour Solicitation from :: to the VIP's solicited-node group. The
// probe is repeated halfway through the wait, in case one was lost.
//
// The cached packet socket can keep an error from a link that went down
// and came back ("network is down"): a probe that fails on the socket is
// tried once more on a fresh one.
func (b *Backend) probe(ctx context.Context, ifi *net.Interface, timeout time.Duration) (net.HardwareAddr, error) {
	mac, err := b.probeOnce(ctx, ifi, timeout)
	if err != nil && ctx.Err() == nil {
		b.dropConn()
		mac, err = b.probeOnce(ctx, ifi, timeout)
	}
	if err != nil {
		b.dropConn()
	}
	return mac, err
}

// dropConn closes the cached packet socket; the next use opens a fresh one.
func (b *Backend) dropConn() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn != nil {
		_ = b.conn.Close()
		b.conn = nil
	}
}

func (b *Backend) probeOnce(ctx context.Context, ifi *net.Interface, timeout time.Duration) (net.HardwareAddr, error) {
	req, err := b.probeFrame(ifi.HardwareAddr)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	conn, err := b.connLocked(ifi)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// Listen only for the probe's lifetime, and start from an empty queue:
	// an old announcement queued while the VIP lived elsewhere must not
	// count as an answer now.
	if err := drain(conn); err != nil {
		return nil, err
	}
	if err := conn.SetBPF(acceptAll); err != nil {
		return nil, err
	}
	defer func() {
		if err := conn.SetBPF(dropAll); err != nil {
			// A socket that keeps accepting would queue all traffic: drop
			// it, the next use opens a fresh one.
			b.mu.Lock()
			if b.conn == conn {
				b.conn = nil
			}
			b.mu.Unlock()
			_ = conn.Close()
			return
		}
		_ = drain(conn)
	}()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()

	start := time.Now()
	end := start.Add(timeout)
	resend := start.Add(timeout / 2)
	if err := sendAll(conn, [][]byte{req}); err != nil {
		return nil, err
	}
	buf := make([]byte, 2048)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		now := time.Now()
		if !now.Before(end) {
			return nil, nil
		}
		wake := end
		if !resend.IsZero() {
			if !now.Before(resend) {
				if err := sendAll(conn, [][]byte{req}); err != nil {
					return nil, err
				}
				resend = time.Time{}
			} else {
				wake = resend
			}
		}
		if err := conn.SetReadDeadline(wake); err != nil {
			return nil, err
		}
		// Re-check after arming the deadline: AfterFunc may have fired
		// before and its deadline been overwritten.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return nil, err
		}
		if mac := b.answer(buf[:n], ifi.HardwareAddr); mac != nil {
			return mac, nil
		}
	}
}

func (b *Backend) probeFrame(mac net.HardwareAddr) ([]byte, error) {
	if b.addr.Is4() {
		p, err := arp.NewPacket(arp.OperationRequest, mac, netip.IPv4Unspecified(), net.HardwareAddr{0, 0, 0, 0, 0, 0}, b.addr)
		if err != nil {
			return nil, err
		}
		return arpFrame(p, ethernet.Broadcast)
	}
	snm, err := ndp.SolicitedNodeMulticast(b.addr)
	if err != nil {
		return nil, err
	}
	// From ::, so without a source link-layer address option (RFC 4861).
	return ndpFrame(&ndp.NeighborSolicitation{TargetAddress: b.addr}, mac, netip.IPv6Unspecified(), snm)
}

// answer returns the MAC of another host claiming the VIP in frame, if it
// does: any ARP packet with the VIP as sender address, or a Neighbour
// Advertisement for the VIP.
func (b *Backend) answer(frame []byte, own net.HardwareAddr) net.HardwareAddr {
	var f ethernet.Frame
	if err := f.UnmarshalBinary(frame); err != nil {
		return nil
	}
	if bytes.Equal(f.Source, own) {
		return nil // our own frames, seen on their way out
	}
	if b.addr.Is4() {
		if f.EtherType != ethernet.EtherTypeARP {
			return nil
		}
		var p arp.Packet
		if err := p.UnmarshalBinary(f.Payload); err != nil {
			return nil
		}
		if p.SenderIP == b.addr && !bytes.Equal(p.SenderHardwareAddr, own) {
			return p.SenderHardwareAddr
		}
		return nil
	}
	if f.EtherType != ethernet.EtherTypeIPv6 || len(f.Payload) < 40 {
		return nil
	}
	ip := f.Payload
	plen := int(binary.BigEndian.Uint16(ip[4:6]))
	if ip[6] != 58 || ip[7] != ndp.HopLimit || 40+plen > len(ip) {
		return nil
	}
	m, err := ndp.ParseMessage(ip[40 : 40+plen])
	if err != nil {
		return nil
	}
	na, ok := m.(*ndp.NeighborAdvertisement)
	if !ok || na.TargetAddress != b.addr {
		return nil
	}
	for _, o := range na.Options {
		if lla, ok := o.(*ndp.LinkLayerAddress); ok && lla.Direction == ndp.Target {
			return lla.Addr
		}
	}
	return f.Source
}
