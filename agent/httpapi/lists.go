package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

// Lists are paged and streamed: a request names a page size (limit, at
// most maxListLimit) and where to go on (cursor, the next_cursor of the
// page before); the agent reads the journal listChunk items at a time and
// writes each chunk before it reads the next, so that a response holds
// one chunk in memory however large the page, and no journal transaction
// stays open while a client is slow to read. A status or state filter
// looks at no more than journal.MaxScan items per page; next_cursor then
// goes on from where it stopped, even when the page is short or empty.
const (
	maxListLimit     = 1000
	defaultListLimit = 100
	listChunk        = 100
)

func listLimit(q url.Values) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return defaultListLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxListLimit {
		return 0, reactions.Invalid("limit: must be a number from 1 to %d", maxListLimit)
	}
	return n, nil
}

// listWriter writes {"<name>":[item,item,...],"next_cursor":"..."}.
type listWriter struct {
	w io.Writer
	n int
}

func startList(w http.ResponseWriter, name string) *listWriter {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `{"`+name+`":[`)
	return &listWriter{w: w}
}

func (l *listWriter) item(raw []byte) {
	if l.n > 0 {
		io.WriteString(l.w, ",\n")
	}
	l.w.Write(raw)
	l.n++
}

func (l *listWriter) end(next string) {
	c, _ := json.Marshal(next)
	io.WriteString(l.w, "],\n\"next_cursor\":"+string(c)+"}\n")
}

// abortList ends a response whose status is sent already: the client sees
// a broken body, never a complete list that is not.
func (s *server) abortList(r *http.Request, err error) {
	s.log.Error().Err(err).Str("path", r.URL.Path).Msg("list aborted")
	panic(http.ErrAbortHandler)
}

func (s *server) handleListEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := journal.Filter{Status: reactions.Status(q.Get("status")), Cursor: q.Get("cursor")}
	if f.Status != "" && !f.Status.Valid() {
		s.writeError(w, r, reactions.Invalid("status: unknown status %q", f.Status))
		return
	}
	limit, err := listLimit(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The first chunk is read before the status is sent, so that a bad
	// cursor or a journal error gets its own.
	f.Limit, f.MaxScan = min(limit, listChunk), journal.MaxScan
	page, err := s.Journal.Page(f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	l := startList(w, "events")
	for {
		for _, raw := range page.Events {
			l.item(raw)
		}
		f.MaxScan -= page.Scanned
		if page.Next == "" || l.n == limit || (f.Status != "" && f.MaxScan <= 0) {
			break
		}
		f.Cursor, f.Limit = page.Next, min(limit-l.n, listChunk)
		if page, err = s.Journal.Page(f); err != nil {
			s.abortList(r, err)
		}
	}
	l.end(page.Next)
}

func (s *server) handleListReports(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := listLimit(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	state := q.Get("state")
	views, next, err := s.Reports.Page(state, min(limit, listChunk), q.Get("cursor"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	l := startList(w, "reports")
	for {
		for _, v := range views {
			b, err := json.Marshal(v)
			if err != nil {
				s.abortList(r, err)
			}
			l.item(b)
		}
		if next == "" || l.n == limit {
			break
		}
		if views, next, err = s.Reports.Page(state, min(limit-l.n, listChunk), next); err != nil {
			s.abortList(r, err)
		}
	}
	l.end(next)
}
