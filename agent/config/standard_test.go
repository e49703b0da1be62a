package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --config wins; without it the platform's standard file is used when it
// is there; only when it is not does the built-in demo config run, with
// the banner on stderr.
func TestChoose(t *testing.T) {
	std := filepath.Join(t.TempDir(), "vipagent.yaml")
	old := standardPath
	standardPath = func() string { return std }
	t.Cleanup(func() { standardPath = old })

	var stderr bytes.Buffer
	if got := Choose("/x/given.yaml", &stderr); got != "/x/given.yaml" || stderr.Len() > 0 {
		t.Errorf("Choose(--config) = %q, stderr %q", got, stderr.String())
	}
	if got := Choose("", &stderr); got != "" {
		t.Errorf("Choose without a standard file = %q, want the built-in config", got)
	}
	if !strings.Contains(stderr.String(), "DEMO config: nothing on this host changes") || !strings.Contains(stderr.String(), std) {
		t.Errorf("banner = %q", stderr.String())
	}
	if err := os.WriteFile(std, []byte(validYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if got := Choose("", &stderr); got != std || stderr.Len() > 0 {
		t.Errorf("Choose with %s present = %q, stderr %q", std, got, stderr.String())
	}
}

// Validate's problems, which name reactions by name, point at the line
// and column where the offending key is written.
func TestProblemsLocated(t *testing.T) {
	y := strings.NewReplacer("on: rm2", "on: rm3", "interface: eth0, ", "").Replace(validYAML) +
		"genesys: {severty: Major}\n"
	file := filepath.Join(t.TempDir(), "vipagent.yaml")
	if err := os.WriteFile(file, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(file, noEnv)
	for _, want := range []string{
		file + `:16:9: reactions.stop.steps[1].on: "rm3" is not one of nodes`,
		file + ":20:11: genesys.severty: unknown key; did you mean severity?",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load() = %v\nwant a problem %q", err, want)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"listen", "node", "nodes", "vips", "data_dir", "reactions"}
	for key, want := range map[string]string{
		"lisen": "listen", "Listen": "listen", "vpis": "vips", "datadir": "data_dir",
		"reaction": "reactions", "listen_addr": "", "x": "", "tls": "",
	} {
		if got := suggest(key, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", key, got, want)
		}
	}
}

// A config parsed from bytes has no file: Locate leaves its problems as
// they are.
func TestLocateWithoutFile(t *testing.T) {
	c, err := Parse([]byte(validYAML))
	if err != nil {
		t.Fatal(err)
	}
	p := Problems{"vips.rm-vip: x"}
	if got := c.Locate(p); got[0] != p[0] {
		t.Errorf("Locate = %q, want %q", got, p)
	}
}
