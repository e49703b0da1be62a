package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/journal/forensic"
)

const journalUsage = "usage: vipagent journal check [--data DIR] | journal salvage --from FILE [--data DIR]\n(FILE is a damaged journal, or an unjournaled.log record file to import)"

// cmdJournal looks at the journal without an agent: check verifies it
// (exit 0 clean, 1 damaged, 2 unreadable), salvage copies what can still be
// read from a damaged file into a fresh journal, as serve does by itself.
func cmdJournal(args []string, env Env) error {
	var c common
	fs := newFlags("journal", env, &c)
	from := fs.String("from", "", "salvage: the damaged journal file to read")
	pos, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || (pos[0] != "check" && pos[0] != "salvage") {
		return subcommandError("journal", first(pos), "check", "salvage")
	}
	if len(pos) != 1 || (pos[0] == "salvage") != (*from != "") {
		return exitf(ExitUsage, journalUsage)
	}
	dir := c.data
	if dir == "" {
		cfg, err := config.Load(config.Choose(c.config, env.Stderr), env.Getenv)
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: err}
		}
		dir = cfg.DataDir
	}
	path := journal.PathIn(dir)
	if pos[0] == "salvage" && isRecordFile(*from) {
		return importRecords(env, c.json, *from, path)
	}
	if pos[0] == "salvage" {
		st, err := forensic.Salvage(*from, path, forensic.SalvageOptions{})
		switch {
		case errors.Is(err, os.ErrExist):
			return exitf(ExitUsage, "salvage: %s exists already: move it aside first (the agent does this itself when it finds its journal damaged)", path)
		case err != nil:
			return exitf(ExitFailed, "salvage %s: %v", *from, err)
		}
		return printJSONOr(env, c.json, st, func() {
			fmt.Fprintf(env.Stdout, "salvaged %s into %s: events %d copied, %d lost; reports %d copied, %d lost; idempotency keys %d copied, %d lost; %d unreadable pages\n",
				*from, path, st.Events.Copied, st.Events.Lost, st.Reports.Copied, st.Reports.Lost, st.Keys.Copied, st.Keys.Lost, st.UnreadablePages)
		})
	}
	rep, err := forensic.Check(path)
	switch {
	case err == nil:
		return printJSONOr(env, c.json, rep, func() {
			fmt.Fprintf(env.Stdout, "%s: clean (%d events, %d unfinished, %d reports pending, %d idempotency keys)\n",
				path, rep.Events, rep.Unfinished, rep.PendingReports, rep.Keys)
		})
	case errors.Is(err, journal.ErrDamaged):
		printJSONOr(env, c.json, rep, func() {
			fmt.Fprintf(env.Stdout, "%s: DAMAGED\n", path)
			for _, p := range rep.Problems {
				fmt.Fprintf(env.Stdout, "  %s\n", safe(fmt.Sprint(p)))
			}
			if rep.MoreProblems > 0 {
				fmt.Fprintf(env.Stdout, "  ... and %d more\n", rep.MoreProblems)
			}
			fmt.Fprintf(env.Stdout, "`vipagent serve` moves it aside and salvages it at its next start; or: vipagent journal salvage --from FILE --data DIR\n")
		})
		return &ExitError{Code: ExitFailed, Err: err}
	case errors.Is(err, journal.ErrLocked):
		return exitf(ExitUsage, "check %s: %v (stop the agent, or let it check its journal at start)", path, err)
	}
	return exitf(ExitUsage, "check %s: cannot read it: %v", path, err)
}

// printJSONOr prints v as JSON with --json, else calls human.
func printJSONOr(env Env, asJSON bool, v any, human func()) error {
	if !asJSON {
		human()
		return nil
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isRecordFile reports whether path is an unjournaled record file (JSON
// lines) rather than a journal: a bbolt file never begins with '{'.
func isRecordFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 1)
	n, _ := f.Read(b)
	return n == 1 && b[0] == '{'
}

// importRecords rebuilds the events of an emergency run's record file in
// the journal at path (made if missing): the emergency run's event IDs, its
// steps with their nodes and peer events.
func importRecords(env Env, asJSON bool, from, path string) error {
	f, err := os.Open(from)
	if err != nil {
		return exitf(ExitUsage, "salvage: %v", err)
	}
	defer f.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return exitf(ExitFailed, "salvage: %v", err)
	}
	j, err := forensic.Open(path, journal.Options{LockTimeout: time.Second})
	if errors.Is(err, journal.ErrLocked) {
		return exitf(ExitUsage, "salvage: %s: %v (stop the agent first)", path, err)
	}
	if err != nil {
		return exitf(ExitFailed, "salvage: %v", err)
	}
	defer j.Close()
	st, err := j.ImportUnjournaled(f)
	if err != nil {
		return exitf(ExitFailed, "import %s into %s: %v", from, path, err)
	}
	return printJSONOr(env, asJSON, st, func() {
		fmt.Fprintf(env.Stdout, "imported %s into %s: %d events added, %d already there, %d lines unreadable\n", from, path, st.Events, st.Already, st.Unreadable)
	})
}
