package templates_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"testing"

	"github.com/vipagent/vipagent/templates"
)

// Every variable the dashboard uses (${name} or $name) is one of its
// template variables or declared inputs, and every declared input is used:
// an import asks only for what the dashboard needs.
func TestDashboardInputsAndVariables(t *testing.T) {
	raw, err := templates.Monitoring.ReadFile("grafana/vipagent.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Inputs []struct {
			Name string `json:"name"`
		} `json:"__inputs"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	var known []string
	for _, v := range d.Templating.List {
		known = append(known, v.Name)
	}
	for _, in := range d.Inputs {
		known = append(known, in.Name)
		if !regexp.MustCompile(`\$\{` + regexp.QuoteMeta(in.Name) + `\}`).Match(raw) {
			t.Errorf("input %s is declared but never used", in.Name)
		}
	}
	// Grafana's own variables ($__rate_interval, ...) start with two
	// underscores.
	for _, m := range regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`).FindAllSubmatch(raw, -1) {
		name := string(m[1])
		if len(name) >= 2 && name[:2] == "__" {
			continue
		}
		if !slices.Contains(known, name) {
			t.Errorf("the dashboard uses $%s, which is neither a template variable nor an input", name)
		}
	}
}
