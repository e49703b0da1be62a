// Package reactions holds the domain of vipagent: alarms that come in, the
// events the agent journals for them, the steps it plans and the results it
// reports. Everything else (rules, engine, VIP backends, journal, HTTP API)
// is built on these types.
package reactions

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Alarm is what a trigger hands to the agent: an SCS alarm reaction, RM's
// failover hook, a webhook or a person at a terminal.
type Alarm struct {
	// ID is the caller's idempotency key: a repeated ID is answered from the
	// journal and executes nothing.
	ID          string            `json:"id,omitempty"`
	Condition   string            `json:"condition,omitempty"`
	EventID     string            `json:"event_id,omitempty"` // Genesys log event ID, e.g. "00-04504"
	Application string            `json:"application,omitempty"`
	Host        string            `json:"host,omitempty"`
	Severity    string            `json:"severity,omitempty"`
	Text        string            `json:"text,omitempty"`
	Time        time.Time         `json:"time,omitzero"`
	Labels      map[string]string `json:"labels,omitempty"`
	// CallbackURL receives this event's result through the report outbox.
	CallbackURL string `json:"callback_url,omitempty"`
}

// Action is what a step does.
type Action string

const (
	ActionEnable  Action = "enable"
	ActionDisable Action = "disable"
	ActionRun     Action = "run"
)

// Condition names a guard that must hold before a step runs.
type Condition string

const (
	// WhenPreviousSucceeded (the default) runs a step only when every step
	// before it succeeded.
	WhenPreviousSucceeded Condition = "previous_succeeded"
	// WhenAlways runs a step whatever happened before it.
	WhenAlways Condition = "always"
	// WhenReleased is the split-brain guard for an enable: every earlier
	// disable of the same VIP succeeded, or failed only because its node was
	// unreachable (the enable's own duplicate-address probe then decides).
	WhenReleased Condition = "vip_released"
	// WhenRMAnswers runs a step only when the Resource Manager of the step's
	// node accepts a TCP connection on its configured address.
	WhenRMAnswers Condition = "rm_answers"
)

// Step is one planned action.
type Step struct {
	Action  Action `json:"action"`
	VIP     string `json:"vip,omitempty"`
	Node    string `json:"node"`
	Command string `json:"command,omitempty"` // for ActionRun: a configured command name
	Force   bool   `json:"force,omitempty"`
	// Released, on an enable another node asked for, says that node
	// verified in the same move that every other node let the VIP go: the
	// duplicate-address probe only has to catch a third host.
	Released bool          `json:"released,omitempty"`
	When     []Condition   `json:"when,omitempty"`
	Timeout  time.Duration `json:"timeout,omitempty"`
}

// Plan is what the rules made of an alarm.
type Plan struct {
	Reaction string `json:"reaction,omitempty"`
	Steps    []Step `json:"steps"`
}

// Source says which door an event came through.
type Source string

const (
	SourceHTTP         Source = "http"
	SourceCLI          Source = "cli"
	SourceAlertmanager Source = "alertmanager"
	SourceFailover     Source = "failover"
	SourceManual       Source = "manual"
	SourcePeer         Source = "peer"
	SourceReplay       Source = "replay"
	SourceReconcile    Source = "reconcile"
	// SourceJournal: the agent found its journal damaged and recovered it.
	SourceJournal Source = "journal"
)

// Status is an event's place in its life.
type Status string

const (
	StatusAccepted   Status = "accepted"
	StatusRunning    Status = "running"
	StatusSucceeded  Status = "succeeded"
	StatusFailed     Status = "failed"
	StatusTimeout    Status = "timeout"
	StatusUnmatched  Status = "unmatched"
	StatusSuperseded Status = "superseded"
	// StatusExpired: the caller's deadline passed before the event could
	// start; nothing was done.
	StatusExpired Status = "expired"
)

// Final reports whether no more work will be done for an event in s.
func (s Status) Final() bool {
	switch s {
	case StatusSucceeded, StatusFailed, StatusTimeout, StatusUnmatched, StatusSuperseded, StatusExpired:
		return true
	}
	return false
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusAccepted || s == StatusRunning || s.Final()
}

// Event is an accepted alarm (or manual action) as the journal keeps it.
type Event struct {
	ID     string `json:"id"`
	Key    string `json:"key,omitempty"` // idempotency key
	Node   string `json:"node"`          // the node that accepted it
	Source Source `json:"source"`
	// Sender names the credential the event came with
	// (httpapi.Caller.ID: "token:<name>", "webhook", "open", "local:...");
	// empty for the agent's own events. Idempotency keys are scoped by it
	// (see KeyScope).
	Sender     string    `json:"sender,omitempty"`
	Alarm      Alarm     `json:"alarm"`
	ReceivedAt time.Time `json:"received_at"`
	// Plan is set for manual and peer actions, which carry their steps with
	// them; alarms get theirs from the rules when they run.
	Plan *Plan `json:"plan,omitempty"`
	// ReplayOf links a replay to the event it re-runs.
	ReplayOf string `json:"replay_of,omitempty"`
	// ReplayedSource is, on a replay, the source of the event first
	// replayed: a replay of a replay needs the role the first one needed.
	ReplayedSource Source `json:"replayed_source,omitempty"`
	// Origin names the event on another node that asked for this one.
	Origin string `json:"origin,omitempty"`
	// GenesysArgs are the standard arguments LCA put on the command line.
	GenesysArgs map[string]string `json:"genesys_args,omitempty"`
	// Deadline, when set, is the caller's: no step starts after it, and an
	// event that could not start before it ends expired (peers' requests).
	Deadline time.Time `json:"deadline,omitempty"`
	// IntentAt is when the move this event belongs to was asked for: for a
	// peer's request, the origin event's; for a reconcile drift, when its
	// pass read the journals; zero means ReceivedAt. The newest intent for a
	// VIP wins (see Intent).
	IntentAt time.Time `json:"intent_at,omitempty"`
	Status   Status    `json:"status"`
	// Runs counts how often execution started; more than one means the
	// agent stopped mid-run and recovery ran the event again.
	Runs   int     `json:"runs,omitempty"`
	Result *Result `json:"result,omitempty"`
}

// Result is the outcome of running an event.
type Result struct {
	EventID    string       `json:"event_id"`
	Node       string       `json:"node"`
	Status     Status       `json:"status"`
	Reaction   string       `json:"reaction,omitempty"`
	Duplicate  bool         `json:"duplicate"`
	DryRun     bool         `json:"dry_run,omitempty"`
	ReplayOf   string       `json:"replay_of,omitempty"`
	StartedAt  time.Time    `json:"started_at"`
	FinishedAt time.Time    `json:"finished_at"`
	Steps      []StepResult `json:"steps"`
	Error      string       `json:"error,omitempty"`
	// Notes explain anything unusual, such as a run resumed after a crash.
	Notes []string `json:"notes,omitempty"`
}

// Outcome is how one step ended.
type Outcome string

const (
	OutcomeChanged   Outcome = "changed"
	OutcomeUnchanged Outcome = "unchanged"
	OutcomeFailed    Outcome = "failed"
	OutcomeTimeout   Outcome = "timeout"
	OutcomeSkipped   Outcome = "skipped"
	// OutcomePlanned is used by dry runs: the step would run.
	OutcomePlanned Outcome = "planned"
	// OutcomeUnknown: the step was sent to another node, which did not
	// answer before the deadline; it may or may not have acted there. The
	// next observation (reconcile) decides.
	OutcomeUnknown Outcome = "unknown"
)

// OK reports whether the step left the VIP as asked.
func (o Outcome) OK() bool { return o == OutcomeChanged || o == OutcomeUnchanged }

// StepResult records one step as it ran.
type StepResult struct {
	Index      int       `json:"index"`
	Action     Action    `json:"action"`
	VIP        string    `json:"vip,omitempty"`
	Node       string    `json:"node"`
	Backend    string    `json:"backend,omitempty"`
	Command    string    `json:"command,omitempty"`
	Outcome    Outcome   `json:"outcome"`
	Before     *VIPState `json:"before,omitempty"`
	After      *VIPState `json:"after,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS float64   `json:"duration_ms"`
	Attempts   int       `json:"attempts"`
	Error      string    `json:"error,omitempty"`
	// Exec is set when the step ran an external program.
	Exec *Exec `json:"exec,omitempty"`
	// PeerEvent is the event ID on the node that carried out the step.
	PeerEvent string `json:"peer_event,omitempty"`
	// Unreachable is set when the step's node could not be reached.
	Unreachable bool `json:"unreachable,omitempty"`
	// Superseded is set when the step's node had seen a newer intent for
	// the VIP and did not run the step.
	Superseded bool `json:"superseded,omitempty"`
	// Reason says why a step was skipped.
	Reason string `json:"reason,omitempty"`
}

// VIPState is what a backend observed of a VIP on its host.
type VIPState struct {
	Present bool `json:"present"`
	// Detail is backend-specific and for people: the interface and
	// addresses seen, the NLB port-rule state, a script's output.
	Detail string `json:"detail,omitempty"`
	// Holders is how many hosts take traffic for the VIP in the backend's
	// own view of the cluster (NLB's converged hosts, this one included);
	// 0 when the backend has no such view. It counts hosts whose agent is
	// down, which no per-node observation can.
	Holders int `json:"holders,omitempty"`
}

// Exec describes one run of an external program.
type Exec struct {
	Argv     []string `json:"argv"`
	ExitCode int      `json:"exit_code"`
	Output   string   `json:"output,omitempty"`
}

// ExecError is the error of a program that failed, timed out or could not
// start. Backends return it so that the step result carries the argv, the
// exit code and the output.
type ExecError struct {
	Exec
	Err error
}

func (e *ExecError) Error() string {
	out := e.Output
	if len(out) > 512 {
		out = out[:512] + "..."
	}
	return fmt.Sprintf("%q exited %d: %v: %s", e.Argv, e.ExitCode, e.Err, out)
}

func (e *ExecError) Unwrap() error { return e.Err }

// Error kinds. The HTTP API maps them to status codes in one place; the CLI
// maps them to exit codes.
var (
	ErrInvalid     = errors.New("invalid input")
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("conflict")
	ErrUnavailable = errors.New("unavailable")
	// ErrUnreachable marks a step whose node did not answer.
	ErrUnreachable = errors.New("node unreachable")
	// ErrDuplicateAddress marks an enable refused because another host
	// already answers for the VIP.
	ErrDuplicateAddress = errors.New("address already in use by another host")
	// ErrSuperseded: a newer intent for the VIP was seen, so the step was
	// not run (the later intent wins).
	ErrSuperseded = errors.New("superseded by a newer intent for the vip")
	// ErrExpired: the request's deadline passed before it could start.
	ErrExpired = errors.New("deadline passed before the step could start")
)

// Invalid returns an ErrInvalid error with a message for users.
func Invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Replay makes the event that re-runs ev: same alarm and plan, no
// idempotency key (a replay always runs), linked to the original and
// remembering the door the first of the line came through (see
// NeedsAdmin).
func (ev *Event) Replay() *Event {
	a := ev.Alarm
	a.ID = ""
	return &Event{Source: SourceReplay, ReplayedSource: ev.firstSource(), Alarm: a, Plan: ev.Plan, ReplayOf: ev.ID, GenesysArgs: ev.GenesysArgs}
}

// Intent identifies the move an event belongs to, for "the newest intent
// for a VIP wins": when it was asked for and the event that asked (a peer's
// request carries its origin's). Intents are ordered by time, then by ID.
type Intent struct {
	At time.Time `json:"at"`
	ID string    `json:"id"`
}

// Intent is the intent ev acts for.
func (ev *Event) Intent() Intent {
	at := ev.IntentAt
	if at.IsZero() {
		at = ev.ReceivedAt
	}
	if ev.Origin == "" {
		return Intent{At: at, ID: ev.ID}
	}
	id, _, _ := strings.Cut(ev.Origin, "#")
	return Intent{At: at, ID: id}
}

// After reports whether i is newer than j.
func (i Intent) After(j Intent) bool {
	if !i.At.Equal(j.At) {
		return i.At.After(j.At)
	}
	return i.ID > j.ID
}
