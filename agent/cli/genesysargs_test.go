package cli

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitGenesysArgs(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		rest    []string
		genesys map[string]string
	}{
		{"none", []string{"fire", "--condition", "X"}, []string{"fire", "--condition", "X"}, nil},
		{"LCA style, anywhere", []string{"-host", "h1", "fire", "-port", "4000", "--condition", "X", "-app", "VIPAgent_RM1_Stopped"},
			[]string{"fire", "--condition", "X"}, map[string]string{"host": "h1", "port": "4000", "app": "VIPAgent_RM1_Stopped"}},
		{"all of them", []string{"serve", "-backup_host", "b", "-backup_port", "2", "-lmspath", `C:\lms`, "-transport-port", "3", "-transport-address", "10"},
			[]string{"serve"}, map[string]string{"backup_host": "b", "backup_port": "2", "lmspath": `C:\lms`, "transport-port": "3", "transport-address": "10"}},
		{"equals form", []string{"fire", "-app=A", "--condition=X"}, []string{"fire", "--condition=X"}, map[string]string{"app": "A"}},
		{"double dash is ours", []string{"fire", "--host", "rm1", "-host", "lca"}, []string{"fire", "--host", "rm1"}, map[string]string{"host": "lca"}},
		{"dangling flag", []string{"fire", "-port"}, []string{"fire"}, map[string]string{"port": ""}},
		{"after --", []string{"fire", "--", "-host", "x"}, []string{"fire", "--", "-host", "x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rest, g := SplitGenesysArgs(tt.in)
			if diff := cmp.Diff(tt.rest, rest); diff != "" {
				t.Errorf("rest (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.genesys, g); diff != "" {
				t.Errorf("genesys (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzSplitGenesysArgs: no panic; nothing is lost or invented; only known
// flags are taken.
func FuzzSplitGenesysArgs(f *testing.F) {
	f.Add("fire\x00-host\x00h\x00--condition\x00X")
	f.Add("-app=\x00-port")
	f.Add("--\x00-host")
	f.Fuzz(func(t *testing.T, joined string) {
		var args []string
		start := 0
		for i := 0; i <= len(joined); i++ {
			if i == len(joined) || joined[i] == 0 {
				args = append(args, joined[start:i])
				start = i + 1
			}
		}
		rest, g := SplitGenesysArgs(args)
		if len(rest) > len(args) {
			t.Fatalf("rest longer than input")
		}
		for k := range g {
			if !genesysFlags[k] {
				t.Fatalf("took unknown flag %q", k)
			}
		}
		for _, r := range rest {
			if !slices.Contains(args, r) {
				t.Fatalf("invented argument %q", r)
			}
		}
	})
}
