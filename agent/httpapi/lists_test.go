package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
)

// GET /v1/events pages with a cursor: following next_cursor lists every
// event once, newest first, across pages larger than the agent's chunk;
// a status filter pages too; limit and cursor are checked.
func TestEventsListPagesWithACursor(t *testing.T) {
	a := newAPI(t, "", nil)
	var want, failed []string
	for i := range 250 {
		ev, _, err := a.m.Journal.Accept(&reactions.Event{Alarm: reactions.Alarm{Condition: "c"}})
		if err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			ev.Status = reactions.StatusFailed
			if err := a.m.Journal.Finish(ev); err != nil {
				t.Fatal(err)
			}
			failed = append(failed, ev.ID)
		}
		want = append(want, ev.ID)
	}
	slices.Reverse(want)
	slices.Reverse(failed)
	list := func(q url.Values) (ids []string) {
		t.Helper()
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("the cursor never ends")
			}
			code, _, body := a.do(http.MethodGet, "/v1/events?"+q.Encode(), "", nil)
			if code != 200 {
				t.Fatalf("%s: %d %s", q.Encode(), code, body)
			}
			page := decode[struct {
				Events []reactions.Event `json:"events"`
				Next   string            `json:"next_cursor"`
			}](t, body)
			for _, ev := range page.Events {
				ids = append(ids, ev.ID)
			}
			if page.Next == "" {
				return ids
			}
			q.Set("cursor", page.Next)
		}
	}
	if diff := cmp.Diff(want, list(url.Values{"limit": {"120"}})); diff != "" {
		t.Errorf("all events, 120 a page (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(failed, list(url.Values{"limit": {"5"}, "status": {"failed"}})); diff != "" {
		t.Errorf("failed events, 5 a page (-want +got):\n%s", diff)
	}
	for _, q := range []string{"limit=1001", "limit=0", "cursor=nope", "cursor=0"} {
		if code, _, body := a.do(http.MethodGet, "/v1/events?"+q, "", nil); code != 400 {
			t.Errorf("%s: %d %s, want 400", q, code, body)
		}
	}
}
