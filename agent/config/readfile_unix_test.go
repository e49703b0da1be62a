//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A config or secret file that is a FIFO, a device or too large is an
// error at once: opening a FIFO blocks until a writer comes, and /dev/zero
// never ends, so reading them hung `config check` (or ran out of memory).
func TestLoadRefusesFilesThatAreNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, maxConfigFile+1); err != nil {
		t.Fatal(err)
	}
	withSecret := func(ref string) string {
		p := filepath.Join(dir, "s"+strings.NewReplacer("/", "_", ":", "_").Replace(ref)+".yaml")
		os.WriteFile(p, []byte("node: rm1\nnodes: {rm1: {}}\nauth: {tokens: [{role: admin, token: \""+ref+"\"}]}\n"), 0o600)
		return p
	}
	tests := []struct {
		name, config, want string
		secret             bool // the problem is the secret's, kept for Resolve
	}{
		{"FIFO", fifo, "is not a regular file", false},
		{"device", os.DevNull, "is not a regular file", false},
		{"directory", dir, "is not a regular file", false},
		{"larger than the limit", huge, "is larger than 4096 KiB", false},
		{"secret in a FIFO", withSecret("file:" + fifo), "is not a regular file", true},
		{"secret in a device", withSecret("file:/dev/zero"), "is not a regular file", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type result struct {
				c   *Config
				err error
			}
			done := make(chan result, 1)
			go func() {
				c, err := Load(tt.config, func(string) string { return "" })
				done <- result{c, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Load hangs")
			}
			err := r.err
			if tt.secret && err == nil {
				_, err = r.c.Auth.Tokens[0].Token.Resolve()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
