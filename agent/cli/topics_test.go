package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestExitCodesTopicNamesEveryCode(t *testing.T) {
	want := []int{ExitOK, ExitFailed, ExitUsage, ExitUnmatched, ExitNoAgent}
	if len(exitCodes) != len(want) {
		t.Fatalf("help exit-codes lists %d codes, the command has %d", len(exitCodes), len(want))
	}
	for i, c := range exitCodes {
		if c.code != want[i] || c.what == "" {
			t.Errorf("exit-codes row %d: code %d %q, want code %d with a meaning", i, c.code, c.what, want[i])
		}
	}
}

func TestEveryHelpTopicPrints(t *testing.T) {
	for _, topic := range topicNames() {
		var out bytes.Buffer
		if err := writeTopic(&out, topic); err != nil {
			t.Errorf("help %s: %v", topic, err)
			continue
		}
		if out.Len() < 200 {
			t.Errorf("help %s: only %d bytes", topic, out.Len())
		}
	}
}

func TestUnknownHelpTopicSuggests(t *testing.T) {
	var out bytes.Buffer
	err := writeTopic(&out, "backend")
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), `did you mean "backends"`) {
		t.Errorf("help backend: %v (exit %d), want exit 2 suggesting backends", err, ExitCode(err))
	}
	for _, bad := range []string{"../README", "help/backends", "backends.md"} {
		if err := writeTopic(&out, bad); ExitCode(err) != ExitUsage {
			t.Errorf("help %s: %v, want exit 2", bad, err)
		}
	}
}
