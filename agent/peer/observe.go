package peer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/reactions"
)

// VIP is what a peer's agent reports of one of its VIPs
// (GET /v1/vips/{name}).
type VIP struct {
	State reactions.VIPState
	// LastAction is the latest step that touched the VIP in the peer's
	// journal, nil when there is none; LastEvent is its event.
	LastAction *reactions.StepResult
	LastEvent  string
	// Intent is the newest move the peer's journal knows was asked for
	// the VIP, nil when there is none.
	Intent *reactions.VIPIntent
	// Moving is set when an event touching the VIP was being accepted or
	// run on the peer while it answered: LastAction and Intent may miss
	// its move.
	Moving bool
}

// Observe returns the state of vip on node as that node's agent observes it.
// A node that does not answer is an error wrapping reactions.ErrUnreachable;
// a node that does not manage the VIP, one wrapping reactions.ErrNotFound.
func (c *Client) Observe(ctx context.Context, node, vip string) (reactions.VIPState, error) {
	v, err := c.VIP(ctx, node, vip)
	return v.State, err
}

// VIP returns the state and the last journaled action of vip on node.
func (c *Client) VIP(ctx context.Context, node, vip string) (VIP, error) {
	n, ok := c.nodes[node]
	if !ok || n.URL == "" {
		return VIP{}, fmt.Errorf("%s has no url (nodes.%s.url)", node, node)
	}
	if n.TokenErr != nil {
		return VIP{}, fmt.Errorf("node %s: %w", node, n.TokenErr)
	}
	if n.Token == "" {
		return VIP{}, fmt.Errorf("node %s: no token configured for peer calls (nodes.%s.token)", node, node)
	}
	u := strings.TrimRight(n.URL, "/") + "/v1/vips/" + url.PathEscape(vip)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return VIP{}, fmt.Errorf("node %s: %w", node, err)
	}
	req.Header.Set("Authorization", "Bearer "+n.Token)
	resp, err := c.http.Do(req)
	if err != nil {
		return VIP{}, fmt.Errorf("node %s at %s: %w: %v", node, redact(n.URL), reactions.ErrUnreachable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return VIP{}, fmt.Errorf("node %s: read answer: %w: %v", node, reactions.ErrUnreachable, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return VIP{}, fmt.Errorf("node %s: vip %s: %w", node, vip, reactions.ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return VIP{}, fmt.Errorf("node %s answered %s: %s", node, resp.Status, excerpt(data))
	}
	var view api.VIPView
	if err := json.Unmarshal(data, &view); err != nil {
		return VIP{}, fmt.Errorf("node %s: decode vip %s: %w", node, vip, err)
	}
	if view.State == nil {
		return VIP{}, fmt.Errorf("node %s could not observe vip %s: %s", node, vip, view.Error)
	}
	out := VIP{State: *view.State, Intent: view.Intent, Moving: view.Moving}
	if view.LastAction != nil {
		step := view.LastAction.Step
		out.LastAction, out.LastEvent = &step, view.LastAction.EventID
	}
	return out, nil
}
