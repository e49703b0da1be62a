package agent

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
)

// recordingPeers answers every peer call with outcome and records it.
type recordingPeers struct {
	outcome reactions.Outcome
	err     error
	calls   []reactions.Step
}

func (r *recordingPeers) Do(ctx context.Context, node string, s reactions.Step, pr engine.PeerRequest) (reactions.StepResult, error) {
	if node != s.Node || !strings.HasPrefix(pr.Origin, "nlb-one-host-") {
		return reactions.StepResult{}, errors.New("unexpected request")
	}
	r.calls = append(r.calls, s)
	return reactions.StepResult{Outcome: r.outcome, Error: "drainstop did not take"}, r.err
}

func TestNLBPeersStopHost(t *testing.T) {
	cfg := &config.Config{Node: "rm1", Nodes: map[string]config.Node{"rm1": {MemberID: 1}, "rm2": {MemberID: 2}}}
	disable := []reactions.Step{{Action: reactions.ActionDisable, VIP: "rm-vip", Node: "rm2"}}
	tests := []struct {
		name      string
		host      int
		peers     *recordingPeers
		wantErr   string
		wantCalls []reactions.Step
	}{
		{name: "disabled", host: 2, peers: &recordingPeers{outcome: reactions.OutcomeChanged}, wantCalls: disable},
		{name: "already released", host: 2, peers: &recordingPeers{outcome: reactions.OutcomeUnchanged}, wantCalls: disable},
		{name: "disable failed", host: 2, peers: &recordingPeers{outcome: reactions.OutcomeFailed}, wantCalls: disable, wantErr: "node rm2: disable rm-vip ended failed: drainstop did not take"},
		{name: "unreachable", host: 2, peers: &recordingPeers{err: reactions.ErrUnreachable}, wantCalls: disable, wantErr: "node unreachable"},
		{name: "no such member", host: 3, peers: &recordingPeers{}, wantErr: "no node has member_id 3 (NLB host priorities must be the RMs' member IDs)"},
		{name: "this node", host: 1, peers: &recordingPeers{}, wantErr: "NLB host 1 is this node's member_id: the NLB host priorities and the member IDs differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := nlbPeers{cfg: cfg, vip: "rm-vip", peers: tt.peers}.StopHost(t.Context(), tt.host)
			if got := errText(err); got != tt.wantErr {
				t.Errorf("StopHost(%d) = %q, want %q", tt.host, got, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantCalls, tt.peers.calls); diff != "" {
				t.Errorf("peer calls (-want +got):\n%s", diff)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
