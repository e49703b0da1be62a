package agent

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/journal/forensic"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
)

// openJournal opens the data directory's journal. A damaged one is moved
// aside and salvaged into a fresh one (Main.Recovery says so): a damaged
// file must never be why a VIP stays on a dead RM's host. When the journal
// cannot be used at all (read-only disk, permissions, no space), an
// emergency run goes on with a scratch journal in the system's temporary
// directory, so that it still observes, acts and verifies; Main.Unjournaled
// carries the reason. A journal held by another process is such a case only
// with Options.HeldIsUnusable: that process is alive (an agent, or another
// command running in-process) and may be running the same alarm, so the
// caller first waits for it; otherwise Open returns journal.ErrLocked.
func (m *Main) openJournal(o Options) error {
	path := journal.PathIn(m.Config.DataDir)
	opts := journal.Options{LockTimeout: o.LockTimeout, Node: m.Config.Node, MaxBytes: m.Config.JournalMaxBytes()}
	err := os.MkdirAll(m.Config.DataDir, 0o750)
	if err == nil {
		m.Journal, m.Recovery, err = forensic.OpenOrRecover(path, opts)
	}
	if err == nil {
		if m.Recovery != nil {
			m.Logger.Error().Str("component", "journal").Str("damaged", m.Recovery.DamagedPath).
				Str("reason", m.Recovery.Reason).Msg(m.Recovery.String())
		}
		return nil
	}
	if !o.Emergency || (errors.Is(err, journal.ErrLocked) && !o.HeldIsUnusable) {
		return fmt.Errorf("journal in %s: %w", m.Config.DataDir, err)
	}
	m.Unjournaled = err
	// The scratch journal is new every run: its event IDs get a prefix of
	// their own, unique to the run, so that records of two emergency runs
	// never name the same event (nor one of the real journal's).
	opts.Node = emergencyPrefix(m.Config.Node)
	for _, base := range []string{os.TempDir(), "/dev/shm"} {
		dir, derr := os.MkdirTemp(base, "vipagent-unjournaled-")
		if derr != nil {
			continue
		}
		j, jerr := forensic.Open(journal.PathIn(dir), opts)
		if jerr != nil {
			os.RemoveAll(dir)
			continue
		}
		m.Journal, m.scratch = j, dir
		return nil
	}
	return errors.Join(fmt.Errorf("journal in %s: %w", m.Config.DataDir, err), errors.New("and no scratch journal could be made in the temporary directory"))
}

// emergencyPrefix begins the IDs of an emergency run's events:
// "<node>-emergency-<random>".
func emergencyPrefix(node string) string {
	var b [4]byte
	rand.Read(b[:])
	return node + "-emergency-" + hex.EncodeToString(b[:])
}

// unjournaledResults records each finished event of an emergency run in the
// plain record file (journal.AppendUnjournaled), step by step as it ran,
// before the scratch journal takes it, and says where on warn.
type unjournaledResults struct {
	next    engine.Results
	dataDir string
	why     error
	warn    io.Writer

	mu   sync.Mutex
	done map[string]bool // recorded already (Finish is retried)
}

func (u *unjournaledResults) Finish(ev *reactions.Event) error {
	u.mu.Lock()
	first := !u.done[ev.ID]
	u.done[ev.ID] = true
	u.mu.Unlock()
	if first && (ev.Result == nil || !ev.Result.DryRun) {
		for _, r := range journal.UnjournaledRecords(ev, u.why) {
			path, err := journal.AppendUnjournaled(u.dataDir, r)
			if err != nil {
				fmt.Fprintf(u.warn, "vipagent: WARNING: event %s was NOT journaled, and no record could be written either: %v\n", ev.ID, err)
				break
			}
			what := string(r.Action) + " " + r.VIP + r.Command + " on " + r.Node
			if r.Step < 0 {
				what = string(r.Status)
			}
			fmt.Fprintf(u.warn, "vipagent: WARNING: event %s was NOT journaled; a one-line record of %s is in %s\n", ev.ID, what, path)
		}
	}
	return u.next.Finish(ev)
}

// results is where the engine's finished events go: the outbox, behind the
// plain record file when the journal could not be used.
func (m *Main) results(o Options) engine.Results {
	if m.Unjournaled == nil {
		return m.outbox
	}
	warn := o.Stderr
	if warn == nil {
		warn = os.Stderr
	}
	return &unjournaledResults{next: m.outbox, dataDir: m.Config.DataDir, why: m.Unjournaled, warn: warn, done: map[string]bool{}}
}

// checkDataDir says why dir cannot be the data directory, or "": a path
// that exists and is not a directory is a configuration mistake (exit 2),
// not a journal fault. A missing one is made when the journal opens.
func checkDataDir(dir string) string {
	st, err := os.Stat(dir)
	if err == nil && !st.IsDir() {
		return fmt.Sprintf("%s exists and is not a directory", dir)
	}
	return ""
}

// RecoveredCondition is the alarm condition of the event that tells about
// a journal recovery; a reaction rule may match it (to run a notification
// command, say), and it is reported to the report targets either way.
const RecoveredCondition = "Journal_Recovered"

// AnnounceRecovery journals the recovery as an event, so that it is
// reported through the outbox like any result and on-call learns of it.
// Serve calls it; so must a one-shot command whose in-process agent did the
// recovery, or nobody would hear of it: the next serve finds a clean journal.
// The event's key makes a second call for the same recovery a duplicate.
func (m *Main) AnnounceRecovery() error {
	r := m.Recovery
	if r == nil {
		return nil
	}
	text := r.String()
	if len(text) > 1900 {
		text = text[:1900] + "..."
	}
	_, _, err := m.Engine.Submit(&reactions.Event{
		Key:    "journal-recovered:" + r.At.UTC().Format("20060102T150405.000000000Z"),
		Source: reactions.SourceJournal,
		Alarm: reactions.Alarm{
			Condition: RecoveredCondition, Host: m.Config.Node, Severity: "critical", Text: text,
			Labels: map[string]string{"damaged_file": filepath.Base(r.DamagedPath)},
		},
	})
	if err != nil {
		return fmt.Errorf("journal the recovery of the journal: %w", err)
	}
	return nil
}
