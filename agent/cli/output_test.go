package cli

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/report"
	"github.com/vipagent/vipagent/reactions"
)

// Every command that prints data prints the same JSON for --json and for
// -o json (before or after the command), and that JSON parses; a command
// that prints no data refuses both, exit 2. The walk is over the command
// table, so a new command that takes --json fails here until it has a case.
func TestJSONSpellingsAgree(t *testing.T) {
	cfg := writeHookConfig(t)
	secrets := map[string]string{"VIPAGENT_TEST_ADMIN": "admin-secret-0123456789", "VIPAGENT_TEST_TRIGGER": "trigger-secret-0123456789"}
	getenv := func(k string) string { return secrets[k] }
	// The agent is down: every command runs in-process on the config's
	// journal. A first alarm gives the journal an event and moves the VIP,
	// so that the actions below find it already so (same answer twice).
	if code, out, errOut := runCLIEnv(t, getenv, "fire", "--config", cfg, "--condition", "RM1_Stopped"); code != ExitOK {
		t.Fatalf("first fire: exit %d\n%s%s", code, out, errOut)
	}
	cases := map[string][]struct {
		args []string
		code int
	}{
		"fire":     {{[]string{"fire", "--condition", "RM1_Stopped"}, ExitOK}, {[]string{"fire", "--condition", "RM1_Stopped", "--dry-run"}, ExitOK}},
		"failover": {{[]string{"failover", "disable", "1"}, ExitOK}, {[]string{"failover", "enable", "1", "--dry-run"}, ExitOK}},
		"replay":   {{[]string{"replay", "latest"}, ExitOK}, {[]string{"replay", "latest", "--dry-run"}, ExitOK}},
		"events":   {{[]string{"events", "list"}, ExitOK}, {[]string{"events", "show", "latest"}, ExitOK}},
		"vip": {{[]string{"vip", "status"}, ExitOK}, {[]string{"vip", "status", "rm-vip"}, ExitOK},
			{[]string{"vip", "disable", "rm-vip"}, ExitOK}, {[]string{"vip", "status", "--pair"}, ExitNoAgent}},
		"reports": {{[]string{"reports", "list"}, ExitOK}},
		"rules":   {{[]string{"rules", "test", "--condition", "RM1_Stopped"}, ExitOK}, {[]string{"rules", "test", "--condition", "X"}, ExitOK}},
		"config":  {{[]string{"config", "check"}, ExitOK}},
		"journal": {{[]string{"journal", "check"}, ExitOK}},
		"version": {{[]string{"version"}, ExitOK}},
	}
	for _, c := range commands {
		if !slices.Contains(c.shared, "json") {
			if c.name == "help" {
				continue // no flags: its words are topics
			}
			code, _, errOut := runCLIEnv(t, getenv, c.name, "--config", cfg, "-o", "json")
			if code != ExitUsage || !strings.Contains(errOut, c.name+" takes no -o: it prints no data") {
				t.Errorf("%s -o json: exit %d, want 2 saying it prints no data:\n%s", c.name, code, errOut)
			}
			continue
		}
		if len(cases[c.name]) == 0 {
			t.Errorf("%s takes --json but this test has no case for it", c.name)
		}
		for _, tt := range cases[c.name] {
			args := slices.Clone(tt.args)
			if slices.Contains(c.shared, "config") {
				args = append(args, "--config", cfg)
			}
			var outs []any
			for _, spelling := range [][]string{
				append(slices.Clone(args), "--json"),
				append(slices.Clone(args), "-o", "json"),
				append([]string{"-o", "json"}, args...),
				append(slices.Clone(args), "-o=json"),
			} {
				code, out, errOut := runCLIEnv(t, getenv, spelling...)
				if code != tt.code {
					t.Errorf("%q: exit %d, want %d\n%s%s", spelling, code, tt.code, out, errOut)
				}
				dec := json.NewDecoder(strings.NewReader(out))
				var v any
				if err := dec.Decode(&v); err != nil || dec.More() {
					t.Errorf("%q: output is not one JSON value (%v):\n%s", spelling, err, out)
					continue
				}
				outs = append(outs, normalize(v))
			}
			for i := 1; i < len(outs); i++ {
				if diff := cmp.Diff(outs[0], outs[i]); diff != "" {
					t.Errorf("%q: --json and spelling %d differ (-json +other):\n%s", tt.args, i, diff)
				}
			}
			// text is the other format, and the default.
			code, text, _ := runCLIEnv(t, getenv, append(slices.Clone(args), "--json", "-o", "text")...)
			if code != tt.code || json.Valid([]byte(text)) {
				t.Errorf("%q -o text: exit %d, want %d and text:\n%s", tt.args, code, tt.code, text)
			}
		}
	}
	code, _, errOut := runCLIEnv(t, getenv, "version", "-o", "yaml")
	if code != ExitUsage || !strings.Contains(errOut, `-o: "yaml" is not an output format: json or text`) {
		t.Errorf("version -o yaml: exit %d, want 2 naming the formats:\n%s", code, errOut)
	}
}

var (
	eventIDShape = regexp.MustCompile(`^[a-z0-9-]+-\d{8}T\d{6}-\d{6}`)
	// volatile are the keys whose values differ between two runs of the
	// same command on the same state.
	volatile = map[string]bool{"duration_ms": true, "next_cursor": true}
)

// normalize replaces what differs between two runs of one command (event
// IDs, times, durations) with placeholders, keeping the shape.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if volatile[k] {
				v[k] = "VOLATILE"
				continue
			}
			v[k] = normalize(e)
		}
	case []any:
		for i, e := range v {
			v[i] = normalize(e)
		}
	case string:
		if _, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return "TIME"
		}
		if eventIDShape.MatchString(v) {
			return "EVENT"
		}
	}
	return v
}

// Every CLI table begins with a header of upper-case column names, one per
// column, and prints times in UTC with the zone.
func TestTablesHaveHeaders(t *testing.T) {
	at := time.Date(2026, 11, 30, 7, 0, 0, 0, time.FixedZone("CET", 3600))
	yes := true
	tables := map[string]func(w *bytes.Buffer){
		"vip status": func(w *bytes.Buffer) {
			printVIPs(w, []api.VIPView{{Name: "rm-vip", Address: "192.0.2.100/24", Interface: "Ethernet 2", Backend: "fake", Node: "rm1",
				State: &reactions.VIPState{Present: true, Detail: "on Ethernet 2"}, ObservedAt: at,
				LastAction: &journal.LastAction{EventID: "rm1-e1", Step: reactions.StepResult{Action: reactions.ActionEnable, Node: "rm1", Outcome: reactions.OutcomeChanged, StartedAt: at}}}})
		},
		"vip status --pair": func(w *bytes.Buffer) {
			printPair(w, api.NewPairView("rm1", []api.PairRow{{VIP: "rm-vip", Node: "rm1", Present: &yes, ObservedAt: &at}}))
		},
		"events list": func(w *bytes.Buffer) {
			printEventList(w, []reactions.Event{{ID: "rm1-e1", Status: reactions.StatusSucceeded, Source: "cli", ReceivedAt: at, Alarm: reactions.Alarm{Condition: "RM1_Stopped"}}})
		},
		"reports list": func(w *bytes.Buffer) {
			printReportList(w, []report.View{{ID: "rm1-e1:oncall", State: "delivered", Target: "oncall", Created: at}})
		},
	}
	for name, print := range tables {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			print(&out)
			lines := strings.Split(out.String(), "\n")
			header := lines[0]
			if header != strings.ToUpper(header) || !strings.Contains(header, "  ") {
				t.Errorf("first line is not a header of upper-case columns:\n%s", out.String())
			}
			// Each row's columns start where the header's do.
			starts := func(s string) []int {
				var at []int
				for i := range s {
					if s[i] != ' ' && (i == 0 || strings.HasPrefix(s[max(0, i-2):i], "  ")) {
						at = append(at, i)
					}
				}
				return at
			}
			for _, c := range starts(header) {
				if c > 0 && (len(lines[1]) <= c || lines[1][c-1] != ' ' || lines[1][c] == ' ') {
					t.Errorf("row does not start a column where the header does (at %d):\n%s", c, out.String())
				}
			}
			if !strings.Contains(lines[1], "2026-11-30T06:00:00.000Z") {
				t.Errorf("row has no UTC time with its zone (2026-11-30T06:00:00.000Z):\n%s", out.String())
			}
		})
	}
}

// While a move is in flight on the node, vip status says so beside the
// last action, which is not that move's.
func TestVIPStatusSaysAMoveIsInFlight(t *testing.T) {
	var out bytes.Buffer
	printVIPs(&out, []api.VIPView{{Name: "rm-vip", Node: "rm1", Moving: true}, {Name: "other-vip", Node: "rm1"}})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "a move is in flight") || strings.Contains(lines[2], "in flight") {
		t.Errorf("vip status with rm-vip moving:\n%s", out.String())
	}
}
