package cli

import (
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/httpapi"
	"github.com/vipagent/vipagent/templates"
)

// generatedTopics are written from the code, so they cannot drift from it.
var generatedTopics = map[string]func(io.Writer) error{
	"keys":       config.WriteReference,
	"api":        httpapi.WriteReference,
	"exit-codes": writeExitCodes,
}

// topicNames is every help topic, generated and prose, sorted.
func topicNames() []string {
	names := make([]string, 0, len(generatedTopics)+16)
	for n := range generatedTopics {
		names = append(names, n)
	}
	entries, _ := fs.ReadDir(templates.Help, "help")
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".md"))
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// writeTopic prints one help topic; an unknown one is a usage error that
// lists the topics and suggests the nearest.
func writeTopic(w io.Writer, topic string) error {
	gen, generated := generatedTopics[topic]
	prose, err := fs.ReadFile(templates.Help, "help/"+topic+".md")
	if strings.ContainsAny(topic, `/\.`) || (!generated && err != nil) {
		if near := suggest(topic, topicNames()); near != "" {
			return exitf(ExitUsage, "no help topic %q (did you mean %q?); topics: %s", topic, near, strings.Join(topicNames(), ", "))
		}
		return exitf(ExitUsage, "no help topic %q; topics: %s", topic, strings.Join(topicNames(), ", "))
	}
	if generated {
		// The part generated from the code first; prose, if any, after.
		if err := gen(w); err != nil {
			return err
		}
		if prose != nil {
			fmt.Fprintln(w)
		}
	}
	_, err = w.Write(prose)
	return err
}

// writeExitCodes is `vipagent help exit-codes`: the table every help
// screen ends with, and what HTTP says for the same outcomes.
func writeExitCodes(w io.Writer) error {
	_, err := fmt.Fprint(w, exitCodes+`
HTTP says the same: 200 succeeded, 422 unmatched, 502 failed, 504 timeout,
409 superseded (or an idempotency key reused for another alarm), 410
expired, 202 still running (Location: /v1/events/{id}), 103 first when the
request carried X-Vipagent-Deadline (X-Vipagent-Event names the event).
`)
	return err
}
