package chaos

import (
	"net"
	"time"

	"github.com/vishvananda/netns"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

const (
	// echoPort is where each node's echo server answers the client's probes.
	echoPort = 9999
	// probeEvery is the client's probing interval.
	probeEvery = time.Millisecond
)

// startEcho answers every probe that reaches node (see agenttest.StartEcho)
// on the wildcard address of its namespace.
func startEcho(ns netns.NsHandle, node string) (*agenttest.Echo, error) {
	var c *net.UDPConn
	err := viptest.RunIn(ns, func() (err error) {
		c, err = net.ListenUDP("udp4", &net.UDPAddr{Port: echoPort})
		return err
	})
	if err != nil {
		return nil, err
	}
	return agenttest.StartEcho(c, node), nil
}

// startProber probes the VIP every probeEvery from the client's namespace
// and records every answer: when, and which node sent it.
func startProber(ns netns.NsHandle, src, vip net.IP) (*agenttest.Prober, error) {
	var c *net.UDPConn
	err := viptest.RunIn(ns, func() (err error) {
		c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: src})
		return err
	})
	if err != nil {
		return nil, err
	}
	return agenttest.StartProber(c, &net.UDPAddr{IP: vip, Port: echoPort}, probeEvery), nil
}

// longestGap is the longest time without any answer within the window
// [from, to]: the client-observed outage in it. A silence that began
// before the window counts from the window's start, one that lasts past
// its end up to the end. Answers are in arrival order.
func longestGap(rs []agenttest.Reply, from, to time.Time) time.Duration {
	var gap time.Duration
	prev := from
	for _, r := range rs {
		if !r.At.After(from) {
			continue
		}
		if r.At.After(to) {
			return max(gap, to.Sub(prev))
		}
		gap = max(gap, r.At.Sub(prev))
		prev = r.At
	}
	return max(gap, to.Sub(prev))
}
