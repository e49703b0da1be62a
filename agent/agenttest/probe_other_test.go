// The prober's users are the Linux lab's tests; under Wine a UDP socket
// cannot be opened at all (Go sets SIO_UDP_CONNRESET on it, which Wine
// answers WSAEOPNOTSUPP), so this test runs everywhere but Windows.

//go:build !windows

package agenttest

import (
	"net"
	"testing"
	"time"
)

func listenLoopback(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The prober learns who answers: first one node, then, once that node's
// echo is gone and another answers at the same address, the other.
func TestProberRecordsWhoAnswers(t *testing.T) {
	c1 := listenLoopback(t)
	dst := c1.LocalAddr().(*net.UDPAddr)
	e1 := StartEcho(c1, "rm1")
	p := StartProber(listenLoopback(t), dst, time.Millisecond)
	defer p.Close()
	Eventually(t, 5*time.Second, func() bool { return p.CountFrom("rm1") >= 5 }, "no answers from rm1")
	e1.Close()
	c2, err := net.ListenUDP("udp4", dst)
	if err != nil {
		t.Fatal(err)
	}
	e2 := StartEcho(c2, "rm2")
	defer e2.Close()
	moved := time.Now()
	Eventually(t, 5*time.Second, func() bool { return p.LastFrom("rm2").After(moved) }, "no answers from rm2")

	rs := p.Replies()
	if len(rs) == 0 || rs[0].Node != "rm1" || rs[len(rs)-1].Node != "rm2" {
		t.Fatalf("replies from %v to %v; want rm1 first and rm2 last", rs[0], rs[len(rs)-1])
	}
	for i := 1; i < len(rs); i++ {
		if rs[i].At.Before(rs[i-1].At) {
			t.Fatalf("reply %d at %s before reply %d at %s: not in arrival order", i, rs[i].At, i-1, rs[i-1].At)
		}
	}
	if p.LastFrom("rm1").After(moved) {
		t.Errorf("rm1 answered after its echo closed")
	}
	if p.Sent() < len(rs) {
		t.Errorf("%d probes sent, %d answers", p.Sent(), len(rs))
	}
}
