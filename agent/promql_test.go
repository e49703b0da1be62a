package agent

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/vipagent/vipagent/templates"
)

// promqlRefs is what a PromQL expression refers to: the series it selects
// and the labels it matches, groups by, joins on or copies.
type promqlRefs struct {
	metrics []string
	labels  []string
}

// promqlToken is one lexeme of an expression: an identifier, a string's
// contents, a number or a piece of punctuation.
type promqlToken struct {
	kind byte // 'i' identifier, 's' string, 'n' number, 'p' punctuation
	text string
}

// promqlLex splits expr into tokens; ranges and subqueries ([5m],
// [$__rate_interval]) are dropped, as they name nothing.
func promqlLex(expr string) ([]promqlToken, error) {
	var out []promqlToken
	isIdent := func(c byte, first bool) bool {
		return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '[':
			end := strings.IndexByte(expr[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [ at %d", i)
			}
			i += end + 1
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j >= len(expr) {
				return nil, fmt.Errorf("unclosed string at %d", i)
			}
			out = append(out, promqlToken{'s', expr[i+1 : j]})
			i = j + 1
		case isIdent(c, true):
			j := i + 1
			for j < len(expr) && isIdent(expr[j], false) {
				j++
			}
			out = append(out, promqlToken{'i', expr[i:j]})
			i = j
		case c >= '0' && c <= '9' || c == '.':
			// numbers and durations (1e3, 0.5, 5m)
			j := i + 1
			for j < len(expr) && (isIdent(expr[j], false) || expr[j] == '.') {
				j++
			}
			out = append(out, promqlToken{'n', expr[i:j]})
			i = j
		default:
			out = append(out, promqlToken{'p', string(c)})
			i++
		}
	}
	return out, nil
}

// promqlLabelLists introduce a parenthesised list of label names.
var promqlLabelLists = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

// promqlWords are identifiers that name no series.
var promqlWords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true}

// promqlLabelArgs are the arguments (by position) of functions that are
// label names: label_replace's destination and source, and the label of
// Grafana's label_values.
var promqlLabelArgs = map[string][]int{"label_replace": {1, 3}, "label_values": {1}}

// promqlScan finds what expr refers to. It reads the PromQL the rules and
// dashboard use (selectors, functions, aggregations with by/without,
// vector matching, label_replace) and Grafana's label_values.
func promqlScan(expr string) (promqlRefs, error) {
	toks, err := promqlLex(expr)
	if err != nil {
		return promqlRefs{}, err
	}
	var refs promqlRefs
	type call struct {
		fn  string
		arg int
	}
	var calls []call
	inBraces, inList := false, false
	for i, tk := range toks {
		next := promqlToken{}
		if i+1 < len(toks) {
			next = toks[i+1]
		}
		top := call{}
		if len(calls) > 0 {
			top = calls[len(calls)-1]
		}
		isLabelArg := slices.Contains(promqlLabelArgs[top.fn], top.arg)
		switch {
		case tk.kind == 'p' && tk.text == "{":
			inBraces = true
		case tk.kind == 'p' && tk.text == "}":
			inBraces = false
		case tk.kind == 'p' && tk.text == "(":
			fn := ""
			if i > 0 && toks[i-1].kind == 'i' {
				fn = toks[i-1].text
			}
			calls = append(calls, call{fn: fn})
		case tk.kind == 'p' && tk.text == ")":
			if len(calls) == 0 {
				return refs, fmt.Errorf("unbalanced ) in %q", expr)
			}
			calls = calls[:len(calls)-1]
			inList = false
		case tk.kind == 'p' && tk.text == ",":
			if len(calls) > 0 {
				calls[len(calls)-1].arg++
			}
		case tk.kind == 's' && isLabelArg:
			refs.labels = append(refs.labels, tk.text)
		case tk.kind != 'i':
		case inBraces || inList || isLabelArg:
			refs.labels = append(refs.labels, tk.text)
		case promqlLabelLists[tk.text]:
			inList = next.text == "("
			if inList {
				// The list's own ( is not a call.
				toks[i+1] = promqlToken{'p', "(list"}
			}
		case next.text == "(" || promqlLabelLists[next.text] || promqlWords[tk.text]:
			// a function or aggregation (sum by (...) (...))
		default:
			refs.metrics = append(refs.metrics, tk.text)
		}
		if tk.kind == 'p' && tk.text == "(list" {
			calls = append(calls, call{})
			inList = true
		}
	}
	if len(calls) > 0 || inBraces {
		return refs, fmt.Errorf("unbalanced ( or { in %q", expr)
	}
	return refs, nil
}

// promqlUse is one expression the shipped rules or dashboard evaluate,
// with the templates (legend, annotations) that print its labels.
type promqlUse struct {
	where     string
	expr      string
	templates []string
}

var templateLabel = regexp.MustCompile(`\{\{\s*(?:\$labels\.)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)

// shippedQueries are the expressions of the shipped rules and dashboard.
func shippedQueries(t *testing.T) []promqlUse {
	t.Helper()
	var uses []promqlUse
	raw, err := templates.Monitoring.ReadFile("prometheus/vipagent-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert, Expr string
				Annotations map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			u := promqlUse{where: "rule " + r.Alert, expr: r.Expr}
			for _, a := range r.Annotations {
				u.templates = append(u.templates, strings.ReplaceAll(a, "$labels.", ""))
			}
			uses = append(uses, u)
		}
	}
	raw, err = templates.Monitoring.ReadFile("grafana/vipagent.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Annotations struct {
			List []struct {
				Name, Expr, TitleFormat, TextFormat string
			}
		}
		Templating struct {
			List []struct {
				Name, Type, Definition string
			}
		}
		Panels []struct {
			Title   string
			Targets []struct{ Expr, LegendFormat string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	for _, a := range dash.Annotations.List {
		uses = append(uses, promqlUse{"dashboard annotation " + a.Name, a.Expr, []string{a.TitleFormat, a.TextFormat}})
	}
	for _, v := range dash.Templating.List {
		if v.Type == "query" {
			uses = append(uses, promqlUse{where: "dashboard variable " + v.Name, expr: v.Definition})
		}
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			uses = append(uses, promqlUse{"dashboard panel " + p.Title, tg.Expr, []string{tg.LegendFormat}})
		}
	}
	return uses
}

// exposedLabels maps every series name of an exposition (histograms'
// _bucket, _sum and _count included) to its label names, with the labels
// Prometheus adds to every scraped series.
func exposedLabels(t *testing.T, body string) map[string][]string {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	add := func(name string, labels ...string) {
		for _, l := range labels {
			if !slices.Contains(out[name], l) {
				out[name] = append(out[name], l)
			}
		}
	}
	for name, f := range fams {
		add(name, "job", "instance")
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				add(name, lp.GetName())
			}
		}
		if f.GetType().String() == "HISTOGRAM" {
			add(name+"_bucket", append(slices.Clone(out[name]), "le")...)
			add(name+"_sum", out[name]...)
			add(name+"_count", out[name]...)
		}
	}
	return out
}

// prometheusSeries are the series Prometheus itself makes that the rules
// and dashboard use; nil labels: any (ALERTS carries each alert's labels).
var prometheusSeries = map[string][]string{"up": {"job", "instance"}, "ALERTS": nil}

// clusterSeries are exposed only by backends with a view of the cluster
// (nlb), which TestClusterHoldersExposedByNLB shows with a real agent.
var clusterSeries = map[string][]string{"vipagent_vip_cluster_holders": {"address", "backend", "instance", "job", "node", "vip"}}

// unexposedRefs lists, per shipped expression, the series names and label
// names it uses that no series of the exposition (or Prometheus' own) has.
func unexposedRefs(t *testing.T, body string) map[string][]string {
	t.Helper()
	exposed := exposedLabels(t, body)
	for n, ls := range prometheusSeries {
		exposed[n] = ls
	}
	for n, ls := range clusterSeries {
		if _, ok := exposed[n]; !ok {
			exposed[n] = ls
		}
	}
	missing := map[string][]string{}
	uses := shippedQueries(t)
	for _, u := range uses {
		refs, err := promqlScan(u.expr)
		if err != nil {
			t.Fatalf("%s: %v", u.where, err)
		}
		if len(refs.metrics) == 0 {
			t.Errorf("%s: no series found in %q", u.where, u.expr)
		}
		var have []string
		anyLabel := false
		for _, m := range refs.metrics {
			ls, ok := exposed[m]
			if !ok {
				missing[u.where] = append(missing[u.where], "series "+m)
			}
			have = append(have, ls...)
			anyLabel = anyLabel || ok && ls == nil
		}
		labels := refs.labels
		for _, tpl := range u.templates {
			for _, m := range templateLabel.FindAllStringSubmatch(tpl, -1) {
				if m[1] != "value" {
					labels = append(labels, m[1])
				}
			}
		}
		for _, l := range labels {
			if !anyLabel && !slices.Contains(have, l) && !slices.Contains(missing[u.where], "label "+l) {
				missing[u.where] = append(missing[u.where], "label "+l)
			}
		}
	}
	if len(uses) < 20 {
		t.Fatalf("only %d expressions found in the rules and the dashboard", len(uses))
	}
	return missing
}

// The scanner finds series and labels wherever the shipped expressions put
// them: inside functions, histogram_quantile, by (...), selectors,
// label_replace and label_values.
func TestPromqlScan(t *testing.T) {
	tests := []struct {
		expr string
		want promqlRefs
	}{
		{`histogram_quantile(0.95, sum by (le, backend) (rate(vipagent_step_duration_seconds_bucket[$__rate_interval])))`,
			promqlRefs{metrics: []string{"vipagent_step_duration_seconds_bucket"}, labels: []string{"le", "backend"}}},
		{`sum by (instance, backend) (increase(vipagent_steps_total{outcome=~"failed|timeout"}[15m])) > 0`,
			promqlRefs{metrics: []string{"vipagent_steps_total"}, labels: []string{"instance", "backend", "outcome"}}},
		{`sum by (vip, address) (label_replace(vipagent_vip_present{vip=~"$vip"}, "address", "$1", "address", "([^/]+)/.*")) > 1`,
			promqlRefs{metrics: []string{"vipagent_vip_present"}, labels: []string{"vip", "address", "vip", "address", "address"}}},
		{`time() - vipagent_reconcile_last_success_timestamp_seconds > 300`,
			promqlRefs{metrics: []string{"vipagent_reconcile_last_success_timestamp_seconds"}}},
		{`up{job="vipagent"} == 0 and on (instance) vipagent_build_info`,
			promqlRefs{metrics: []string{"up", "vipagent_build_info"}, labels: []string{"job", "instance"}}},
		{`label_values(vipagent_vip_present, vip)`,
			promqlRefs{metrics: []string{"vipagent_vip_present"}, labels: []string{"vip"}}},
		{`sum without (node) (vipagent_peer_up) / count(vipagent_peer_up)`,
			promqlRefs{metrics: []string{"vipagent_peer_up", "vipagent_peer_up"}, labels: []string{"node"}}},
	}
	for _, tt := range tests {
		got, err := promqlScan(tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(promqlRefs{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.expr, diff)
		}
	}
}
