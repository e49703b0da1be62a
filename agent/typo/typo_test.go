package typo

import "testing"

func TestNearest(t *testing.T) {
	names := []string{"listen", "node", "nodes", "check", "condition"}
	for _, tc := range []struct {
		s      string
		within int
		want   string
	}{
		{"lisen", 2, "listen"},
		{"chek", 1, "check"},
		{"conditon", 2, "condition"},
		{"ndoe", 1, "node"}, // a swapped pair is one edit
		{"colour", 2, ""},
		{"nodes", 0, "nodes"},
		{"lisen", 0, ""},
	} {
		if got := Nearest(tc.s, names, tc.within); got != tc.want {
			t.Errorf("Nearest(%q, within %d) = %q, want %q", tc.s, tc.within, got, tc.want)
		}
	}
}
