package peer

import (
	"net/http"

	"github.com/vipagent/vipagent/agent/version"
)

// userAgent names vipagent and its version on every peer call, so that a
// node's logs (and anything between the nodes) can tell which build asked.
type userAgent struct{ next http.RoundTripper }

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", version.UserAgent())
	return u.next.RoundTrip(r)
}
