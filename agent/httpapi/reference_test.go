package httpapi

import (
	"bytes"
	"testing"
)

// TestReferenceDocumentsEveryRoute fails when a route of the table has no
// text in routeDocs or a text names a route that is gone.
func TestReferenceDocumentsEveryRoute(t *testing.T) {
	seen := map[string]bool{}
	for _, rt := range Reference() {
		k := rt.Method + " " + rt.Pattern
		seen[k] = true
		if routeDocs[k] == "" {
			t.Errorf("%s: no text in routeDocs (reference.go)", k)
		}
	}
	for k := range routeDocs {
		if !seen[k] {
			t.Errorf("routeDocs has %q, which is not a route", k)
		}
	}
	var b bytes.Buffer
	if err := WriteReference(&b); err != nil {
		t.Fatal(err)
	}
	for k := range seen {
		if !bytes.Contains(b.Bytes(), []byte(k[len("GET "):])) && !bytes.Contains(b.Bytes(), []byte(k[len("POST "):])) {
			t.Errorf("the reference does not show %s", k)
		}
	}
}
