package cli

import (
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/httpapi"
	"github.com/vipagent/vipagent/templates"
)

// generatedTopics are written from the code, so they cannot drift from it.
var generatedTopics = map[string]func(io.Writer) error{
	"config":     config.WriteReference,
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
	return names
}

// writeTopic prints one help topic; an unknown one is a usage error that
// lists the topics and suggests the nearest.
func writeTopic(w io.Writer, topic string) error {
	if gen, ok := generatedTopics[topic]; ok {
		return gen(w)
	}
	b, err := fs.ReadFile(templates.Help, "help/"+topic+".md")
	if err != nil || strings.ContainsAny(topic, `/\.`) {
		return exitf(ExitUsage, "no help topic %q%s; topics: %s", topic, suggest(topic, topicNames()), strings.Join(topicNames(), ", "))
	}
	_, err = w.Write(b)
	return err
}

// exitCodes is what `vipagent help exit-codes` prints; a test checks it
// against the Exit constants.
var exitCodes = []struct {
	code int
	what string
}{
	{ExitOK, "the event succeeded, or the command did its job"},
	{ExitFailed, "a step failed or timed out, its peer did not answer in time (outcome unknown), or the event was superseded or expired"},
	{ExitUsage, "bad usage, configuration or input, or the agent answering is not this config's: nothing was done"},
	{ExitUnmatched, "no reaction rule matched the alarm (journaled as unmatched)"},
	{ExitNoAgent, "not accepted: no agent answered and running in-process was impossible; this request will never act"},
}

func writeExitCodes(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tMEANING")
	for _, c := range exitCodes {
		fmt.Fprintf(tw, "%d\t%s\n", c.code, c.what)
	}
	fmt.Fprintln(tw, "\nHTTP says the same: 200 succeeded, 422 unmatched, 502 failed, 504 timeout, 409 superseded (or a key reused for another alarm), 410 expired, 202 still running (Location: /v1/events/{id}).")
	return tw.Flush()
}

// suggest is ", did you mean X?" for the candidate nearest to s, or "".
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is Levenshtein's distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
