package httpapi

import (
	"net/http"
	"time"

	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/agent/peer"
	"github.com/vipagent/vipagent/reactions"
)

// maxDeadlineAhead bounds how far ahead a caller's deadline may be: further
// means a clock out of step, and an event that could wait that long in a
// queue would act long after anyone remembers asking.
const maxDeadlineAhead = peer.MaxStepTimeout

// deadlineOf is the caller's deadline: the X-Vipagent-Deadline header or
// the deadline query parameter (for webhooks that cannot set headers);
// zero when neither is given. Both given must agree.
func deadlineOf(r *http.Request) (time.Time, error) {
	if err := singleHeaders(r.Header, api.HeaderDeadline); err != nil {
		return time.Time{}, err
	}
	h, q := r.Header.Get(api.HeaderDeadline), r.URL.Query().Get("deadline")
	var dl time.Time
	for _, v := range []struct{ where, value string }{{api.HeaderDeadline, h}, {"deadline", q}} {
		if v.value == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v.value)
		if err != nil {
			return time.Time{}, reactions.Invalid("%s: %q is not an RFC 3339 time such as 2026-12-07T04:05:06.789Z", v.where, v.value)
		}
		if !dl.IsZero() && !dl.Equal(t) {
			return time.Time{}, reactions.Invalid("deadline: the %s header and the deadline query parameter differ", api.HeaderDeadline)
		}
		dl = t.UTC()
	}
	if dl.After(time.Now().Add(maxDeadlineAhead)) {
		return time.Time{}, reactions.Invalid("deadline: more than %s ahead of this node's clock (is the caller's clock in sync?)", maxDeadlineAhead)
	}
	return dl, nil
}

// announce tells a caller that gave a deadline which events its request
// was journaled as, before waiting for their results: a 103 answer with
// X-Vipagent-Event. The header stays on the final answer too.
func announce(w http.ResponseWriter, deadline time.Time, ids ...string) {
	if deadline.IsZero() || len(ids) == 0 {
		return
	}
	for _, id := range ids {
		w.Header().Add(api.HeaderEvent, id)
	}
	w.WriteHeader(http.StatusEarlyHints)
}
