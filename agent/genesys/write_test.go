package genesys

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A write that cannot complete writes nothing: a name taken by a directory
// is found before any file is written. (A file that cannot be written is in
// write_unix_test.go: it needs a limit that binds root too.)
func TestWriteIsAllOrNothing(t *testing.T) {
	files := map[string][]byte{"GUIDE.md": []byte("guide\n"), "INIT.bat": []byte("x\r\n"), "z.json": []byte("{}\n")}
	t.Run("name taken by a directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "z.json"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := Write(dir, files); err == nil || !strings.Contains(err.Error(), "nothing was written") {
			t.Errorf("Write over a directory: %v, want an error saying nothing was written", err)
		}
		if diff := cmp.Diff([]string{"z.json"}, dirNames(t, dir)); diff != "" {
			t.Errorf("directory content (-want +got):\n%s", diff)
		}
	})
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
