package journal

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRememberSignatureSurvivesRestartAndIsPruned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	now := time.Unix(1764460800, 0)
	clock := func() time.Time { return now }
	j, err := Open(path, Options{Node: "rm1", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	type call struct {
		sig   string
		until time.Time
	}
	remember := func(j *Journal, calls []call) []bool {
		t.Helper()
		var got []bool
		for _, c := range calls {
			fresh, err := j.RememberSignature(c.sig, now, c.until)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fresh)
		}
		return got
	}
	got := remember(j, []call{{"a", now.Add(time.Minute)}, {"b", now.Add(time.Hour)}, {"a", now.Add(time.Minute)}})
	if diff := cmp.Diff([]bool{true, true, false}, got); diff != "" {
		t.Errorf("before restart (-want +got):\n%s", diff)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	j = open(t, path, Options{Now: clock})
	got = remember(j, []call{{"a", now.Add(time.Minute)}, {"b", now.Add(time.Hour)}})
	if diff := cmp.Diff([]bool{false, false}, got); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}

	// Past a's expiry it is pruned (and so usable again); b is still kept.
	now = now.Add(2 * time.Minute)
	got = remember(j, []call{{"c", now.Add(time.Minute)}, {"b", now.Add(time.Hour)}})
	if diff := cmp.Diff([]bool{true, false}, got); diff != "" {
		t.Errorf("after a expired (-want +got):\n%s", diff)
	}
	if n, err := j.SignatureCount(); err != nil || n != 2 {
		t.Errorf("SignatureCount() = %d, %v; want 2 (a pruned)", n, err)
	}

	// The scheduled prune forgets the rest once they expire.
	now = now.Add(2 * time.Hour)
	if err := j.PruneSignatures(); err != nil {
		t.Fatal(err)
	}
	if n, err := j.SignatureCount(); err != nil || n != 0 {
		t.Errorf("SignatureCount() after PruneSignatures = %d, %v; want 0", n, err)
	}
}
