//go:build unix

package journal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/reactions"
)

// squat makes name in a directory anyone may write to, as another local
// user would in advance: a file of theirs that anyone may write.
func squat(t *testing.T, dir, name string) string {
	t.Helper()
	agenttest.RequireRoot(t, "to make a file owned by another user")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o1777); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	return p
}

// Another user's file in a directory anyone may write to never gets the
// record: the next place does, and as a last resort a file of our own.
func TestUnjournaledRefusesAnotherUsersFile(t *testing.T) {
	rec := UnjournaledRecord{Node: "rm1", Action: reactions.ActionEnable, VIP: "rm-vip"}
	t.Run("in the data directory", func(t *testing.T) {
		base := t.TempDir()
		theirs := squat(t, filepath.Join(base, "data"), UnjournaledFile)
		path, err := AppendUnjournaled(filepath.Join(base, "data"), rec)
		if want := filepath.Join(base, "vipagent-"+UnjournaledFile); err != nil || path != want {
			t.Errorf("AppendUnjournaled = %q, %v; want %q", path, err, want)
		}
		if fi, err := os.Stat(theirs); err != nil || fi.Size() != 0 {
			t.Errorf("the other user's file got the record: %v, %v", fi.Size(), err)
		}
	})
	t.Run("in the temporary directory", func(t *testing.T) {
		tmp := filepath.Join(t.TempDir(), "tmp")
		theirs := squat(t, tmp, "vipagent-"+UnjournaledFile)
		t.Setenv("TMPDIR", tmp)
		path, err := AppendUnjournaled("", rec)
		if err != nil || path == theirs || !strings.HasPrefix(path, filepath.Join(tmp, "vipagent-unjournaled-")) {
			t.Errorf("AppendUnjournaled = %q, %v; want a new file of ours in %s", path, err, tmp)
		}
		if fi, err := os.Stat(theirs); err != nil || fi.Size() != 0 {
			t.Errorf("the other user's file got the record: %v, %v", fi.Size(), err)
		}
	})
}
