// Package peer is the peer protocol, both halves: Client carries reaction
// steps to the agents of other nodes (an authenticated POST to
// /v1/vips/{vip}/{enable|disable} on the node's API, waiting for the
// result), and Event checks such a request where it arrives. The call is bounded by the step's deadline; a
// node that does not answer is reported as reactions.ErrUnreachable.
package peer

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
)

// Node is how to reach one peer.
type Node struct {
	URL   string
	Token string
	// TokenErr says why the token could not be resolved (an env: or file:
	// reference missing in this process); calls to the node fail with it.
	TokenErr error
}

// Client calls peers.
type Client struct {
	nodes  map[string]Node
	http   *http.Client
	clocks clocks
}

// New returns a client; tlsConfig may be nil.
func New(nodes map[string]Node, tlsConfig *tls.Config) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConfig
	tr.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &Client{nodes: nodes, http: &http.Client{Transport: userAgent{tr}}}
}

// Do sends step to its node and returns the step result the node recorded.
// The request carries the time after which the caller no longer listens, in
// the node's clock as the probes measured it (see clocks): the node never
// starts the step after it (it answers expired). A node
// that had seen a newer intent for the VIP answers superseded.
func (c *Client) Do(ctx context.Context, node string, step reactions.Step, pr engine.PeerRequest) (reactions.StepResult, error) {
	n, ok := c.nodes[node]
	if !ok || n.URL == "" {
		return reactions.StepResult{}, fmt.Errorf("%s has no url (nodes.%s.url)", node, node)
	}
	if n.TokenErr != nil {
		return reactions.StepResult{}, fmt.Errorf("node %s: %w", node, n.TokenErr)
	}
	if n.Token == "" {
		// Never an unauthenticated call: the peer would refuse it anyway
		// once it has tokens, and without them it should not be reachable.
		return reactions.StepResult{}, fmt.Errorf("node %s: no token configured for peer calls (nodes.%s.token)", node, node)
	}
	if step.Action != reactions.ActionEnable && step.Action != reactions.ActionDisable {
		return reactions.StepResult{}, fmt.Errorf("node %s: only enable and disable steps can be sent to another node", node)
	}
	// Leave the peer a little less than our deadline, so that its answer,
	// not our timeout, tells what happened.
	timeout := step.Timeout
	wait := timeout
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		wait = left - left/10
		if timeout <= 0 || timeout > wait {
			timeout = wait - 100*time.Millisecond
		}
	}
	if timeout <= 0 {
		timeout = time.Second
	}
	body, _ := json.Marshal(api.VIPActionRequest{
		ID: pr.Origin, Origin: pr.Origin, Force: step.Force, Released: step.Released,
		TimeoutMS: timeout.Milliseconds(),
		Deadline:  c.clocks.toPeer(node, time.Now().Add(wait)).UTC(),
		IntentAt:  pr.IntentAt.UTC(),
	})
	u := strings.TrimRight(n.URL, "/") + "/v1/vips/" + url.PathEscape(step.VIP) + "/" + string(step.Action) +
		"?wait=" + url.QueryEscape(wait.Round(time.Millisecond).String())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return reactions.StepResult{}, fmt.Errorf("node %s: %w", node, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+n.Token)
	resp, err := c.http.Do(req)
	if err != nil {
		return reactions.StepResult{}, fmt.Errorf("node %s at %s: %w: %v", node, redact(n.URL), reactions.ErrUnreachable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return reactions.StepResult{}, fmt.Errorf("node %s: read answer: %w: %v", node, reactions.ErrUnreachable, err)
	}
	if resp.StatusCode == http.StatusAccepted {
		var acc struct {
			EventID string `json:"event_id"`
		}
		_ = json.Unmarshal(data, &acc)
		return reactions.StepResult{PeerEvent: acc.EventID}, fmt.Errorf("node %s: event %s still running when the step's deadline came", node, acc.EventID)
	}
	var res reactions.Result
	if err := json.Unmarshal(data, &res); err != nil || res.EventID == "" {
		return reactions.StepResult{}, fmt.Errorf("node %s answered %s: %s", node, resp.Status, excerpt(data))
	}
	if len(res.Steps) != 1 {
		return reactions.StepResult{PeerEvent: res.EventID}, fmt.Errorf("node %s answered %s with %d steps: %s", node, resp.Status, len(res.Steps), res.Error)
	}
	sr := res.Steps[0]
	sr.PeerEvent = res.EventID
	switch res.Status {
	case reactions.StatusSuperseded:
		return sr, fmt.Errorf("node %s: %w: %s", node, reactions.ErrSuperseded, res.Error)
	case reactions.StatusExpired:
		return sr, fmt.Errorf("node %s: %w: %s", node, reactions.ErrExpired, res.Error)
	}
	return sr, nil
}

func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// redact drops credentials from a URL before it reaches a log or a result.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}
