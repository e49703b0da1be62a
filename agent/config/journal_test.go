package config

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestJournalMaxBytes(t *testing.T) {
	for _, tt := range []struct {
		yaml    string
		want    int64
		problem string
	}{
		{"{}", DefaultJournalMaxBytes, ""},
		{"{max_bytes: 64MiB}", 64 << 20, ""},
		{"{max_bytes: 2GiB}", 2 << 30, ""},
		{"{max_bytes: 5242880}", 5 << 20, ""},
		{"{max_bytes: 64KiB}", 0, "journal.max_bytes: must be at least 1MiB"},
		{"{max_bytes: 64MB}", 0, `"64MB" is not a size`},
		{"{max_bytes: -1}", 0, `"-1" is not a size`},
	} {
		var c Config
		err := yaml.Unmarshal([]byte(tt.yaml), &c.Journal)
		if err == nil {
			var p Problems
			c.validateJournal(&p)
			if len(p) > 0 {
				err = p
			}
		}
		switch {
		case tt.problem == "" && err != nil:
			t.Errorf("%s: %v", tt.yaml, err)
		case tt.problem != "" && (err == nil || !strings.Contains(err.Error(), tt.problem)):
			t.Errorf("%s: %v, want %q", tt.yaml, err, tt.problem)
		case tt.problem == "" && c.JournalMaxBytes() != tt.want:
			t.Errorf("%s: %d bytes, want %d", tt.yaml, c.JournalMaxBytes(), tt.want)
		}
	}
}
