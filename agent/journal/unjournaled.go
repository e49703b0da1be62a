package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vipagent/vipagent/reactions"
)

// UnjournaledRecord is one action taken while no journal could be opened
// or recovered: the trace left instead of an event in the journal.
type UnjournaledRecord struct {
	Time    time.Time         `json:"time"`
	Node    string            `json:"node"`
	Source  reactions.Source  `json:"source,omitempty"`
	Action  reactions.Action  `json:"action"`
	VIP     string            `json:"vip,omitempty"`
	Outcome reactions.Outcome `json:"outcome,omitempty"`
	// Error is the action's error, if it failed.
	Error string `json:"error,omitempty"`
	// JournalError says why there was no journal.
	JournalError string `json:"journal_error,omitempty"`
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
