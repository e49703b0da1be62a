package regularfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("12345678"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		max        int64
		want       string // the content, or a part of the error
		wantErr    bool
	}{
		{"regular", small, 8, "12345678", false},
		{"larger than max", small, 7, "is larger than", true},
		{"directory", dir, 8, "is not a regular file (it is a directory)", true},
		{"missing", filepath.Join(dir, "none"), 8, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Read(tt.path, tt.max)
			switch {
			case tt.wantErr && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Read: %v, want an error with %q", err, tt.want)
			case !tt.wantErr && (err != nil || string(b) != tt.want):
				t.Errorf("Read: %q, %v, want %q", b, err, tt.want)
			}
		})
	}
	if _, err := Open(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing file: %v, want fs.ErrNotExist", err)
	}
}
