package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/vipagent/vipagent/reactions"
)

// ErrNoURL: the node has no url in the configuration, so it cannot be
// called (a pair configured on one side only, or the built-in default).
var ErrNoURL = errors.New("no url configured")

// Nodes lists the peers this client can call.
func (c *Client) Nodes() []string {
	out := make([]string, 0, len(c.nodes))
	for n := range c.nodes {
		out = append(out, n)
	}
	return out
}

// Probe asks node's agent whether it is alive (GET /healthz, which needs no
// token), bounded by ctx, and notes the offset of its clock from the time
// it answers with. A node that does not answer, or answers anything
// but 200, is an error; one that does not answer wraps
// reactions.ErrUnreachable.
func (c *Client) Probe(ctx context.Context, node string) error {
	n, ok := c.nodes[node]
	if !ok || n.URL == "" {
		return fmt.Errorf("%s has no url (nodes.%s.url): %w", node, node, ErrNoURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(n.URL, "/")+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("node %s: %w", node, err)
	}
	sent := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("node %s at %s: %w: %v", node, redact(n.URL), reactions.ErrUnreachable, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("node %s answered %s: %s", node, resp.Status, excerpt(data))
	}
	c.clocks.note(node, sent, time.Now(), data)
	return nil
}
