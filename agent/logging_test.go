package agent

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/version"
)

// Log lines carry RFC 3339 UTC times with milliseconds, and the version.
func TestLogTimeAndVersion(t *testing.T) {
	var buf bytes.Buffer
	log, closer := newLogger(config.Log{Format: "json", Level: "info"}, &buf)
	defer closer.Close()
	log.Info().Msg("hello")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if ts, _ := line["time"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(ts) {
		t.Errorf("time %q is not RFC 3339 UTC with milliseconds", line["time"])
	}
	if line["version"] != version.String() {
		t.Errorf("version %v, want %q", line["version"], version.String())
	}
}
