package cli

import (
	"errors"
	"fmt"

	"github.com/vipagent/vipagent/reactions"
)

// Exit codes of the vipagent command, as documented in the README and in
// `vipagent --help`.
const (
	ExitOK        = 0 // the event succeeded (or the command did its job)
	ExitFailed    = 1 // a step failed or timed out, or the result is unknown
	ExitUsage     = 2 // bad usage, configuration or input
	ExitUnmatched = 3 // no reaction rule matched the alarm
	ExitNoAgent   = 4 // not accepted: no agent answered (in time) and running in-process was impossible; nothing was done
	// ExitUnknown (5, agentconn.go): accepted as an event, outcome unknown.
)

// ExitError carries the exit code a command should end with.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

func exitf(code int, format string, args ...any) error {
	return &ExitError{Code: code, Err: fmt.Errorf(format, args...)}
}

// ExitCode maps an error returned by Run to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if errors.Is(err, reactions.ErrInvalid) {
		return ExitUsage
	}
	return ExitFailed
}

// exitForStatus maps an event's final status to the exit code.
func exitForStatus(st reactions.Status) int {
	switch st {
	case reactions.StatusSucceeded:
		return ExitOK
	case reactions.StatusUnmatched:
		return ExitUnmatched
	case reactions.StatusExpired:
		// Its caller's deadline passed before it started: nothing done.
		return ExitNoAgent
	}
	return ExitFailed
}
