package httpapi_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	wire "github.com/vipagent/vipagent/agent/api"
)

func TestNewPairView(t *testing.T) {
	yes, no := true, false
	at := time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC)
	row := func(vip, node string, present *bool) wire.PairRow {
		r := wire.PairRow{VIP: vip, Node: node, Present: present}
		if present == nil {
			r.Error = "node " + node + " at http://rm2:8470: peer unreachable"
		} else {
			r.ObservedAt = &at
		}
		return r
	}
	tests := []struct {
		name   string
		rows   []wire.PairRow
		want   []wire.PairVIP
		wantOK bool
	}{
		{"one holder", []wire.PairRow{row("a", "rm1", &yes), row("a", "rm2", &no)},
			[]wire.PairVIP{{Name: "a", Holders: []string{"rm1"}, OK: true}}, true},
		{"two holders", []wire.PairRow{row("a", "rm2", &yes), row("a", "rm1", &yes)},
			[]wire.PairVIP{{Name: "a", Holders: []string{"rm1", "rm2"}}}, false},
		{"no holder", []wire.PairRow{row("a", "rm1", &no), row("a", "rm2", &no)},
			[]wire.PairVIP{{Name: "a", Holders: []string{}}}, false},
		{"peer silent", []wire.PairRow{row("a", "rm1", &yes), row("a", "rm2", nil)},
			[]wire.PairVIP{{Name: "a", Holders: []string{"rm1"}, Unknown: []string{"rm2"}}}, false},
		{"one VIP bad spoils the pair", []wire.PairRow{row("a", "rm1", &yes), row("a", "rm2", &no), row("b", "rm1", &no), row("b", "rm2", &no)},
			[]wire.PairVIP{{Name: "a", Holders: []string{"rm1"}, OK: true}, {Name: "b", Holders: []string{}}}, false},
		{"no VIPs", nil, []wire.PairVIP{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := wire.NewPairView("rm1", tt.rows)
			if diff := cmp.Diff(tt.want, v.VIPs); diff != "" {
				t.Errorf("vips (-want +got):\n%s", diff)
			}
			if v.OK != tt.wantOK || v.Node != "rm1" {
				t.Errorf("ok %v node %s, want %v rm1", v.OK, v.Node, tt.wantOK)
			}
		})
	}
}
