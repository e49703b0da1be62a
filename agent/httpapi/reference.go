package httpapi

import (
	"context"
	"fmt"
	"github.com/vipagent/vipagent/agent/api"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
)

// Reference is every route the API can serve, the optional ones (metrics,
// pair, reports) included, in the order of the route table: what
// `vipagent help api` prints, so the reference cannot drift from the router.
func Reference() []Route {
	s := &server{Deps: Deps{
		Metrics: http.NotFoundHandler(),
		Pair:    func(context.Context) api.PairView { return api.PairView{} },
		Reports: referenceReports{},
	}}
	table := s.routeTable()
	out := make([]Route, len(table))
	for i, rt := range table {
		rt.handler = nil
		out[i] = rt
	}
	return out
}

// referenceReports only makes the report routes part of the table; its
// methods are never called.
type referenceReports struct{ Reports }

// WriteReference writes the route table: method, path, role, query and
// what the route does (routeDocs).
func WriteReference(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tPATH\tROLE\tQUERY\tWHAT")
	for _, rt := range Reference() {
		q := strings.Join(rt.Query, ",")
		if rt.AnyQuery {
			q = "(any)"
		}
		if q == "" {
			q = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", rt.Method, rt.Pattern, rt.Role, q, routeDocs[rt.Method+" "+rt.Pattern])
	}
	return tw.Flush()
}

// routeDocs says what each route does, by "METHOD pattern"; a test fails
// when a route has none or a text names no route.
var routeDocs = map[string]string{
	"GET /healthz":                "the process is alive; its node name and clock",
	"GET /readyz":                 "journal open and committing, config loaded; 503 with the reason otherwise",
	"GET /v1/identity":            "the agent's node, data directory, config digest and backends, proven with the config's secret (nonce: 32-128 hex digits)",
	"POST /v1/alarms":             "an alarm in (JSON); waits up to wait for the result",
	"GET /v1/events":              "journaled events, newest first; paged (limit 1-1000, cursor = the answer's next_cursor)",
	"GET /v1/events/{id}":         "one event and its result",
	"POST /v1/events/{id}/replay": "run an event's plan again (admin for manual, peer, reconcile or forced events)",
	"GET /v1/vips":                "every VIP: observed state, backend, last action, intent",
	"GET /v1/vips/{name}":         "one VIP",
	"POST /v1/vips/{name}/{action:enable|disable}": "manual or peer enable/disable, journaled like any event",
	"POST /v1/failover":                            "RM's failover convention: {action, member_id}",
	"POST /v1/alertmanager":                        "Prometheus Alertmanager webhook, payload version 4",
	"GET /metrics":                                 "Prometheus metrics (vipagent help monitoring)",
	"GET /v1/pair":                                 "every node's observation of each VIP, and whether exactly one holds it",
	"GET /v1/reports":                              "the report outbox; paged like /v1/events",
	"POST /v1/reports/{id}/retry":                  "deliver a report again",
}
