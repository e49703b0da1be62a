package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/agent/report"
	"github.com/vipagent/vipagent/reactions"
)

// Every `vipagent COMMAND ...` line of a synopsis in the help topics and
// the README (text blocks) names a command that exists and only flags its
// help lists, so the prose cannot promise a flag the command lacks.
func TestSynopsesNameRealFlags(t *testing.T) {
	files, err := filepath.Glob("../../templates/help/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no help topics (%v)", err)
	}
	files = append(files, "../../README.md")
	line := regexp.MustCompile(`^vipagent +([a-z]+)\b(.*)$`)
	flagRE := regexp.MustCompile(`(?:^|[\s\[|])(--?[a-z][a-z-]*)`)
	helpOf := map[string]string{}
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inText, cmd := false, ""
		for i, l := range strings.Split(string(b), "\n") {
			switch t := strings.TrimSpace(l); {
			case strings.HasPrefix(t, "```"):
				inText = !inText && t == "```text"
				cmd = ""
				continue
			case !inText:
				continue
			}
			rest := l
			if m := line.FindStringSubmatch(l); m != nil {
				cmd, rest = m[1], m[2]
			} else if !strings.HasPrefix(l, " ") || cmd == "" {
				cmd = ""
				continue // not a synopsis line, nor its continuation
			}
			if lookupCommand(cmd) == nil {
				t.Errorf("%s:%d: no command %q", f, i+1, cmd)
				continue
			}
			if _, ok := helpOf[cmd]; !ok {
				_, out, _ := runCLI(t, cmd, "--help")
				helpOf[cmd] = out
			}
			if i := strings.Index(rest, "#"); i >= 0 {
				rest = rest[:i]
			}
			for _, m := range flagRE.FindAllStringSubmatch(rest, -1) {
				checked++
				if !strings.Contains(helpOf[cmd], "  "+m[1]+" ") && !strings.Contains(helpOf[cmd], "  "+m[1]+"\n") {
					t.Errorf("%s:%d: vipagent %s has no flag %s (its help lists none)", f, i+1, cmd, m[1])
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d flags found in synopses: the reader is broken", checked)
	}
}

// A table shown as sample output in the help topics or the README has a
// header a CLI printer really prints.
func TestSampleTablesHaveRealHeaders(t *testing.T) {
	var headers []string
	var b strings.Builder
	yes := true
	printPair(&b, api.PairView{Rows: []api.PairRow{{VIP: "v", Node: "n", Present: &yes}}})
	printVIPs(&b, []api.VIPView{{Name: "v"}})
	printEventList(&b, []reactions.Event{{ID: "e"}})
	printReportList(&b, []report.View{{ID: "r"}})
	for _, l := range strings.Split(b.String(), "\n") {
		if l != "" && l == strings.ToUpper(l) && strings.Contains(l, "  ") {
			headers = append(headers, strings.Join(strings.Fields(l), " "))
		}
	}
	if len(headers) != 4 {
		t.Fatalf("found %d printer headers, want 4: %q", len(headers), headers)
	}
	files, _ := filepath.Glob("../../templates/help/*.md")
	files = append(files, "../../README.md")
	header := regexp.MustCompile(`^[A-Z][A-Z ()]+[A-Z)]$`)
	found := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inText := false
		for i, l := range strings.Split(string(data), "\n") {
			if t := strings.TrimSpace(l); strings.HasPrefix(t, "```") {
				inText = !inText && t == "```text"
				continue
			}
			if !inText || !header.MatchString(l) || !strings.Contains(l, "  ") {
				continue
			}
			found++
			if h := strings.Join(strings.Fields(l), " "); !slices.Contains(headers, h) {
				t.Errorf("%s:%d: no CLI table has the header %q (they are %q)", f, i+1, h, headers)
			}
		}
	}
	if found == 0 {
		t.Error("no sample table in the docs: the reader is broken (monitoring.md shows the pair view)")
	}
}
