package journal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Options.Verify reads an existing file before bbolt maps it, and its
// refusal comes back from Open as it is, with the file untouched; a new
// file has nothing to verify.
func TestOpenVerifiesAnExistingFileFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	var verified []string
	refuse := errors.New("refused by Verify")
	verify := func(err error) func(string) error {
		return func(p string) error { verified = append(verified, p); return err }
	}
	j, err := Open(path, Options{Verify: verify(refuse)})
	if err != nil {
		t.Fatalf("Open of a new file: %v", err)
	}
	if len(verified) != 0 {
		t.Errorf("Verify ran for a new file: %v", verified)
	}
	j.Close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{Verify: verify(refuse)}); err != refuse {
		t.Errorf("Open = %v, want Verify's error as it is", err)
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(before, after) {
		t.Errorf("file changed after a refusal: %v", err)
	}
	j, err = Open(path, Options{Verify: verify(nil)})
	if err != nil {
		t.Fatalf("Open after Verify passed: %v", err)
	}
	j.Close()
	if want := []string{path, path}; len(verified) != 2 || verified[0] != want[0] || verified[1] != want[1] {
		t.Errorf("Verify ran for %v, want %v", verified, want)
	}
}
