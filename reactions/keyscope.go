package reactions

// KeyScope is the namespace of ev's idempotency key: the doors whose
// requests may repeat one another share one. Alarms share theirs whichever
// door they came through (an SCS reaction retried through the webhook is
// the same alarm), and manual and peer VIP actions (admin's door) have
// their own, so that a trigger-role caller cannot claim a key a peer will
// use ("<its event>#<step>") and have that move answered from its alarm
// instead of run. Every other source gets a scope of its own, Alertmanager
// too: its keys are derived from the alert ("am:<fingerprint>:..."), never
// sent through another door, so an alarm posted with such an id must not
// pre-empt the alert and have it answered as a duplicate.
func (ev *Event) KeyScope() string {
	switch ev.Source {
	case "", SourceHTTP, SourceCLI:
		return ""
	case SourceManual, SourcePeer:
		return "vip"
	}
	return string(ev.Source)
}
