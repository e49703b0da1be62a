package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// maxPage is the agent's largest page (its limit's maximum).
const maxPage = 1000

// listPages fetches up to want items of a paged list (GET path?q, whose
// answer is {"<name>":[...],"next_cursor":"..."}), following the cursor
// from page to page. It returns the items as sent and the cursor that goes
// on after them ("" when the list is complete). With --json it prints them
// as one list of the same shape.
func (cl *client) listPages(ctx context.Context, path, name string, q url.Values, want int) (items []json.RawMessage, next string, printed bool, err error) {
	for pages := 0; ; pages++ {
		if pages > 0 && next == "" || len(items) >= want {
			break
		}
		if next != "" {
			q.Set("cursor", next)
		}
		q.Set("limit", strconv.Itoa(min(want-len(items), maxPage)))
		code, resp, err := cl.do(ctx, http.MethodGet, path+"?"+q.Encode(), nil)
		if err != nil {
			return nil, "", false, err
		}
		if code != http.StatusOK {
			return nil, "", false, apiError(code, resp)
		}
		var page map[string]json.RawMessage
		var got []json.RawMessage
		if err := json.Unmarshal(resp, &page); err != nil {
			return nil, "", false, fmt.Errorf("decode %s: %w", path, err)
		}
		if err := json.Unmarshal(page[name], &got); err != nil {
			return nil, "", false, fmt.Errorf("decode %s: %s: %w", path, name, err)
		}
		next = ""
		if c, ok := page["next_cursor"]; ok {
			if err := json.Unmarshal(c, &next); err != nil {
				return nil, "", false, fmt.Errorf("decode %s: next_cursor: %w", path, err)
			}
		}
		items = append(items, got...)
	}
	if !cl.c.json {
		return items, next, false, nil
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	out, err := json.MarshalIndent(map[string]any{name: items, "next_cursor": next}, "", "  ")
	if err != nil {
		return nil, "", false, err
	}
	cl.env.Stdout.Write(append(out, '\n'))
	return items, next, true, nil
}
