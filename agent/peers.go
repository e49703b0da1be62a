package agent

import (
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/peer"
	"github.com/vipagent/vipagent/reactions/engine"
)

// newPeers is the client for the other nodes' agents.
func newPeers(cfg *config.Config) (*peer.Client, error) {
	peers := map[string]peer.Node{}
	for name, n := range cfg.Nodes {
		if name != cfg.Node {
			// An unresolvable token fails only the calls to that node, with
			// the reason: a local step never needs a peer's secret.
			tok, err := n.Token.Resolve()
			peers[name] = peer.Node{URL: n.URL, Token: tok, TokenErr: err}
		}
	}
	tlsClient, err := ClientTLS(cfg.TLS)
	if err != nil {
		return nil, err
	}
	return peer.New(peers, tlsClient), nil
}

// rmAddresses maps nodes to where their RM answers (host:port), for the
// `when: rm_answers` condition.
func rmAddresses(cfg *config.Config) map[string]string {
	out := map[string]string{}
	for name, n := range cfg.Nodes {
		out[name] = n.RMAddress
	}
	return out
}

// commands are the programs `run` steps may start.
func commands(cfg *config.Config) map[string]engine.Command {
	out := map[string]engine.Command{}
	for name, c := range cfg.Commands {
		out[name] = engine.Command{Argv: c.Argv, Dir: c.Dir, Timeout: c.Timeout.D()}
	}
	return out
}
