package reactions

import (
	"maps"
	"slices"
)

// DoorScope is the namespace of ev's idempotency key among the doors: the
// doors whose requests may repeat one another share one. Alarms share
// theirs whichever door they came through (an SCS reaction retried through
// the webhook is the same alarm), and manual and peer VIP actions (admin's
// door) have their own, so that a trigger-role caller cannot claim a key a
// peer will use ("<its event>#<step>") and have that move answered from its
// alarm instead of run. Every other source gets a scope of its own,
// Alertmanager too: its keys are derived from the alert
// ("am:<fingerprint>:..."), never sent through another door, so an alarm
// posted with such an id must not pre-empt the alert and have it answered
// as a duplicate.
func (ev *Event) DoorScope() string {
	switch ev.Source {
	case "", SourceHTTP, SourceCLI:
		return ""
	case SourceManual, SourcePeer:
		return "vip"
	}
	return string(ev.Source)
}

// KeyScope is the full namespace of ev's idempotency key: its door's scope
// and the credential that sent it (Sender). A key belongs to its sender: a
// caller holding one token cannot claim a key another credential's caller
// (an SCS reaction, a peer) will send and have that request answered from
// its own. Events without a sender (the agent's own, and those journaled
// before senders were recorded) are scoped by door alone. The parts are
// joined by NUL, which neither door scopes nor keys (see CheckKey) contain.
func (ev *Event) KeyScope() string {
	if ev.Sender == "" {
		return ev.DoorScope()
	}
	return ev.DoorScope() + "\x00" + ev.Sender
}

// Repeats reports whether ev, carrying prev's idempotency key, asks for
// what prev asked for, so that it is answered from prev's journal entry.
// What decides what runs must be equal: the alarm's matching fields (the
// condition, event ID, application, host, severity and labels), where its
// result goes (callback_url) and, for VIP actions, the planned steps. The
// alarm's time and text may differ: a retried alarm or a repeated
// Alertmanager notification carries a fresh time or a re-rendered summary,
// and a peer's retry a shorter step timeout. A key sent again with another
// alarm is a conflict, never a silent duplicate.
func (ev *Event) Repeats(prev *Event) bool {
	a, b := ev.Alarm, prev.Alarm
	if a.Condition != b.Condition || a.EventID != b.EventID || a.Application != b.Application ||
		a.Host != b.Host || a.Severity != b.Severity || a.CallbackURL != b.CallbackURL || !maps.Equal(a.Labels, b.Labels) {
		return false
	}
	if (ev.Plan == nil) != (prev.Plan == nil) {
		return false
	}
	if ev.Plan == nil {
		return true
	}
	return ev.Plan.Reaction == prev.Plan.Reaction && slices.EqualFunc(ev.Plan.Steps, prev.Plan.Steps, sameStep)
}

// sameStep compares two steps without their timeouts.
func sameStep(a, b Step) bool {
	return a.Action == b.Action && a.VIP == b.VIP && a.Node == b.Node && a.Command == b.Command &&
		a.Force == b.Force && a.Released == b.Released && slices.Equal(a.When, b.When)
}
