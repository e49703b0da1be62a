package config

import (
	"strings"
	"testing"
)

// TestReferenceCoversEveryKey fails when a configuration field has no text in
// keyDocs, or a text is left for a key that no longer exists.
func TestReferenceCoversEveryKey(t *testing.T) {
	missing, stale := undocumentedKeys()
	if len(missing) > 0 {
		t.Errorf("keys without a text in keyDocs (reference_docs.go): %s", strings.Join(missing, ", "))
	}
	if len(stale) > 0 {
		t.Errorf("texts in keyDocs for keys the configuration does not have: %s", strings.Join(stale, ", "))
	}
}

func TestReferenceShowsDefaults(t *testing.T) {
	want := map[string]string{"listen": DefaultListen, "auth.max_skew": "5m", "schedules.prune_age": "720h", "limits.supersede": "true"}
	for _, k := range Reference() {
		if w, ok := want[k.Path]; ok {
			if k.Default != w {
				t.Errorf("%s: default %q, want %q", k.Path, k.Default, w)
			}
			delete(want, k.Path)
		}
	}
	for p := range want {
		t.Errorf("%s: not in the reference", p)
	}
}
