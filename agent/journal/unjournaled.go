package journal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/vipagent/vipagent/reactions"
)

// UnjournaledRecord is one step taken while no journal could be opened
// or recovered: the trace left instead of an event in the journal, from
// which `journal salvage` rebuilds the event.
type UnjournaledRecord struct {
	Time time.Time `json:"time"`
	// Node is where the step ran: this node, or the peer that carried it
	// out (PeerEvent is the event there).
	Node string `json:"node"`
	// EventID is the emergency run's event; EventNode the node that ran
	// it, Status how it ended.
	EventID   string            `json:"event_id,omitempty"`
	EventNode string            `json:"event_node,omitempty"`
	Status    reactions.Status  `json:"status,omitempty"`
	Source    reactions.Source  `json:"source,omitempty"`
	Condition string            `json:"condition,omitempty"`
	Step      int               `json:"step"`
	Action    reactions.Action  `json:"action"`
	VIP       string            `json:"vip,omitempty"`
	Command   string            `json:"command,omitempty"`
	Outcome   reactions.Outcome `json:"outcome,omitempty"`
	PeerEvent string            `json:"peer_event,omitempty"`
	// Error is the step's error, if it failed.
	Error string `json:"error,omitempty"`
	// JournalError says why there was no journal.
	JournalError string `json:"journal_error,omitempty"`
}

// UnjournaledRecords are the records of a finished event that could not be
// journaled: one per step, each naming the node it ran on and the peer's
// event; one for the event itself when it had no steps (unmatched,
// expired).
func UnjournaledRecords(ev *reactions.Event, journalErr error) []UnjournaledRecord {
	base := UnjournaledRecord{Time: time.Now().UTC(), Node: ev.Node, EventID: ev.ID, EventNode: ev.Node,
		Status: ev.Status, Source: ev.Source, Condition: ev.Alarm.Condition}
	if journalErr != nil {
		base.JournalError = journalErr.Error()
	}
	if ev.Result == nil || len(ev.Result.Steps) == 0 {
		r := base
		r.Step = -1
		if ev.Result != nil {
			r.Error = ev.Result.Error
		}
		return []UnjournaledRecord{r}
	}
	out := make([]UnjournaledRecord, 0, len(ev.Result.Steps))
	for _, s := range ev.Result.Steps {
		r := base
		r.Node, r.Step, r.Action, r.VIP, r.Command = s.Node, s.Index, s.Action, s.VIP, s.Command
		r.Outcome, r.PeerEvent, r.Error = s.Outcome, s.PeerEvent, s.Error
		if !s.StartedAt.IsZero() {
			r.Time = s.StartedAt.UTC()
		}
		out = append(out, r)
	}
	return out
}

// ImportStats says what ImportUnjournaled did.
type ImportStats struct {
	// Events were added; Already were in the journal (imported before).
	Events, Already int
	// Unreadable lines were not records; Anonymous records name no event
	// (written by an older version) and are kept as one event each.
	Unreadable, Anonymous int
}

// ImportUnjournaled rebuilds the events of an unjournaled record file in j:
// each event with its ID, source, alarm condition, status and steps as they
// ran. An event already in j is left alone, so importing a file twice adds
// nothing.
func (j *Journal) ImportUnjournaled(r io.Reader) (ImportStats, error) {
	var st ImportStats
	events := map[string][]UnjournaledRecord{}
	var order []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var rec UnjournaledRecord
		if err := json.Unmarshal(line, &rec); err != nil || rec.Time.IsZero() {
			st.Unreadable++
			continue
		}
		if rec.EventID == "" {
			sum := sha256.Sum256(line)
			rec.EventID = "unjournaled-" + hex.EncodeToString(sum[:8])
			rec.Step = 0
			st.Anonymous++
		}
		if _, ok := events[rec.EventID]; !ok {
			order = append(order, rec.EventID)
		}
		events[rec.EventID] = append(events[rec.EventID], rec)
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("read unjournaled records: %w", err)
	}
	for _, id := range order {
		ev := eventOf(id, events[id])
		stored, dup, err := j.Accept(&reactions.Event{ID: ev.ID, Node: ev.Node, Source: ev.Source, Alarm: ev.Alarm, ReceivedAt: ev.ReceivedAt})
		switch {
		case errors.Is(err, reactions.ErrConflict) || dup:
			st.Already++
			continue
		case err != nil:
			return st, err
		}
		ev.IntentAt = stored.IntentAt
		if err := j.Finish(ev); err != nil {
			return st, err
		}
		st.Events++
	}
	return st, nil
}

// eventOf is the event an emergency run's records describe.
func eventOf(id string, recs []UnjournaledRecord) *reactions.Event {
	first := recs[0]
	status := first.Status
	if status == "" || !status.Final() {
		// Older records carry the event's status as the outcome of a
		// step-less record, or nothing: the steps tell.
		status = reactions.StatusSucceeded
		for _, r := range recs {
			if r.Outcome != "" && !r.Outcome.OK() && r.Outcome != reactions.OutcomeSkipped {
				status = reactions.StatusFailed
			}
		}
	}
	node := first.EventNode
	if node == "" {
		node = first.Node
	}
	src := first.Source
	if src == "" {
		src = reactions.SourceCLI
	}
	cond := first.Condition
	if cond == "" {
		cond = "unjournaled"
	}
	res := &reactions.Result{EventID: id, Node: node, Status: status, StartedAt: first.Time, FinishedAt: recs[len(recs)-1].Time, Steps: []reactions.StepResult{},
		Notes: []string{"imported from the unjournaled record of an emergency run: the journal could not be used (" + first.JournalError + ")"}}
	for _, r := range recs {
		if r.Step < 0 {
			res.Error = r.Error
			continue
		}
		res.Steps = append(res.Steps, reactions.StepResult{Index: r.Step, Action: r.Action, VIP: r.VIP, Command: r.Command, Node: r.Node,
			Outcome: r.Outcome, Error: r.Error, PeerEvent: r.PeerEvent, StartedAt: r.Time})
	}
	return &reactions.Event{ID: id, Node: node, Source: src, Alarm: reactions.Alarm{Condition: cond}, ReceivedAt: first.Time, Status: status, Result: res}
}

// UnjournaledFile is the name of the append-only record in the data
// directory; elsewhere it is prefixed with "vipagent-".
const UnjournaledFile = "unjournaled.log"

// AppendUnjournaled appends rec as one JSON line to a plain append-only
// file and returns the file it wrote. It tries <dataDir>/unjournaled.log,
// then vipagent-unjournaled.log in the parent of dataDir, then in the
// system temporary directory: whichever first accepts the line (the data
// directory may be the very thing that is read-only or full), and last in a
// new file of its own there. It creates no directory, and skips a name that
// exists but is not a regular file or (on Unix, in a directory anyone may
// write to) is another user's.
// The error lists every attempt when none worked.
func AppendUnjournaled(dataDir string, rec UnjournaledRecord) (string, error) {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	rec.Time = rec.Time.UTC()
	line, err := json.Marshal(rec)
	if err != nil {
		return "", fmt.Errorf("unjournaled record: %w", err)
	}
	line = append(line, '\n')
	var candidates []string
	if dataDir != "" {
		dataDir = filepath.Clean(dataDir)
		candidates = append(candidates, filepath.Join(dataDir, UnjournaledFile),
			filepath.Join(filepath.Dir(dataDir), "vipagent-"+UnjournaledFile))
	}
	candidates = append(candidates, filepath.Join(os.TempDir(), "vipagent-"+UnjournaledFile))
	var errs []error
	for _, path := range candidates {
		err := appendLine(path, line)
		if err == nil {
			return path, nil
		}
		errs = append(errs, err)
	}
	path, err := appendPrivate(line)
	if err == nil {
		return path, nil
	}
	errs = append(errs, err)
	return "", fmt.Errorf("unjournaled record: %w", errors.Join(errs...))
}

// appendPrivate writes line to a new file of this process's own in the
// temporary directory: the last resort when every shared name failed (one
// may be another user's, made there in advance).
func appendPrivate(line []byte) (string, error) {
	f, err := os.CreateTemp("", "vipagent-unjournaled-*.log")
	if err != nil {
		return "", err
	}
	return f.Name(), writeSyncClose(f, line)
}

func appendLine(path string, line []byte) error {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", path)
	}
	f, err := openAppend(path)
	if err != nil {
		return err
	}
	return writeSyncClose(f, line)
}

// writeSyncClose writes line to f, syncs and closes it; an error names f.
func writeSyncClose(f *os.File, line []byte) error {
	_, err := f.Write(line)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	return nil
}
