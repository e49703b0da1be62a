package cli

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestExitCodesTopicNamesEveryCode(t *testing.T) {
	var out bytes.Buffer
	if err := writeTopic(&out, "exit-codes"); err != nil {
		t.Fatal(err)
	}
	for _, code := range []int{ExitOK, ExitFailed, ExitUsage, ExitUnmatched, ExitNoAgent, ExitUnknown} {
		if !strings.Contains(out.String(), fmt.Sprintf("\n  %d  ", code)) {
			t.Errorf("help exit-codes does not explain exit code %d:\n%s", code, out.String())
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

// TestNoTopicHidesACommand: `vipagent help X` prints command X's help when
// X is a command, so a topic of that name could never be read.
func TestNoTopicHidesACommand(t *testing.T) {
	for _, topic := range topicNames() {
		if lookupCommand(topic) != nil {
			t.Errorf("help topic %q has a command's name: `vipagent help %s` shows the command's help instead", topic, topic)
		}
	}
}

// TestHelpReferencesResolve: every `vipagent help X` that the README or a
// topic tells a reader to run names a topic or a command.
func TestHelpReferencesResolve(t *testing.T) {
	texts := map[string]string{}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	texts["README.md"] = string(b)
	for _, topic := range topicNames() {
		var out bytes.Buffer
		if err := writeTopic(&out, topic); err != nil {
			t.Fatal(err)
		}
		texts["help "+topic] = out.String()
	}
	ref := regexp.MustCompile("vipagent help ([a-z][a-z-]*)")
	for where, text := range texts {
		for _, m := range ref.FindAllStringSubmatch(text, -1) {
			name := m[1]
			if name == "TOPIC" || lookupCommand(name) != nil || slices.Contains(topicNames(), name) {
				continue
			}
			t.Errorf("%s tells the reader to run `vipagent help %s`, which is neither a topic nor a command", where, name)
		}
	}
}
