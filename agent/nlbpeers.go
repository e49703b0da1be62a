package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/vip/nlb"
)

// nlbPeers lets an nlb backend stop another converged host of its cluster
// through that host's agent: NLB host N is the node whose RM has member ID
// N, as the Genesys procedure sets the host priorities.
type nlbPeers struct {
	cfg   *config.Config
	vip   string
	peers engine.Peers
}

// stopNLBPeersThrough wires every nlb backend to the peers' agents.
func (m *Main) stopNLBPeersThrough(peers engine.Peers) {
	for name, b := range m.backends {
		if nb, ok := b.(*nlb.Backend); ok {
			nb.StopOthersWith(nlbPeers{cfg: m.Config, vip: name, peers: peers})
		}
	}
}

// StopHost asks the agent of the node with member ID hostID to disable the
// VIP there, and succeeds only when that agent verified it.
func (p nlbPeers) StopHost(ctx context.Context, hostID int) error {
	node, ok := p.cfg.NodeByMember(hostID)
	switch {
	case !ok:
		return fmt.Errorf("no node has member_id %d (NLB host priorities must be the RMs' member IDs)", hostID)
	case node == p.cfg.Node:
		return fmt.Errorf("NLB host %d is this node's member_id: the NLB host priorities and the member IDs differ", hostID)
	}
	var nonce [8]byte
	rand.Read(nonce[:])
	step := reactions.Step{Action: reactions.ActionDisable, VIP: p.vip, Node: node}
	sr, err := p.peers.Do(ctx, node, step, engine.PeerRequest{Origin: "nlb-one-host-" + hex.EncodeToString(nonce[:])})
	if err != nil {
		return err
	}
	if !sr.Outcome.OK() {
		return fmt.Errorf("node %s: disable %s ended %s: %s", node, p.vip, sr.Outcome, sr.Error)
	}
	return nil
}
