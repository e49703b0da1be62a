package cli

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/config"
)

// FuzzConfigCheck runs `vipagent config check` over mutated YAML: no panic,
// and a configuration it refuses is exit 2 with every problem named by its
// config path.
func FuzzConfigCheck(f *testing.F) {
	for _, s := range []string{
		string(config.DefaultYAML()),
		"node: rm1\nnodes: {rm1: {}}\nvips: {v: {address: 192.0.2.1/24, backend: fake, timeout: 5x}}\n",
		"node: rm1\nnodes: {rm1: {}, RM1: {}}\nlisten: ':http'\nlimits: {shutdown_grace: -1s}\n",
		"node: rm1\nnodes: {rm1: {}}\ncommands: {p: {argv: ['${text}', x]}}\n---\nnode: rm2\n",
		"node: rm1\nnode: rm2\nauth: {tokens: [{role: admin, token: 'env:T'}, {role: read, token: 'env:T'}]}\n",
		"vips: {a: {address: 0.0.0.0/0}, b: {address: '::/0'}}\nreactions: [{name: r, steps: [{enable: a}]}]\n",
		"a: &a [*a, *a]\nb: *a\n", "<<: {node: rm1}\n", "node: [\n", "{", "- 1\n- 2\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(dir, "vipagent.yaml")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		env := Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}
		err := cmdConfig([]string{"check", "--config", file}, env)
		if err == nil {
			return
		}
		if code := ExitCode(err); code != ExitUsage {
			t.Fatalf("exit %d, want %d: %v", code, ExitUsage, err)
		}
		var probs config.Problems
		if !errors.As(err, &probs) || len(probs) == 0 {
			t.Fatalf("refusal without problems: %v", err)
		}
		for _, p := range probs {
			if path, msg, ok := strings.Cut(p, ": "); !ok || path == "" || msg == "" {
				t.Errorf("problem without a path: %q", p)
			}
		}
	})
}
