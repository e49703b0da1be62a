package reactions

// NeedsAdmin reports whether running ev (again) needs the admin role rather
// than trigger. Only what a trigger-role caller could have asked for itself
// replays with trigger: alarms (webhook, fire, Alertmanager, the journal's
// own recovery notice) and failovers, unless their plan forces an enable
// past the duplicate-address check. Everything else needs admin: manual
// VIP actions and peer-originated events (which only admin may ask for),
// reconcile's repairs (a move the agent chose from the state it saw then)
// and any source added later, until someone decides otherwise here.
// A replay of unknown lineage (journaled before ReplayedSource existed)
// that carries a plan is treated as admin's: the safe answer.
func (ev *Event) NeedsAdmin() bool {
	if ev.Plan.Forces() {
		return true
	}
	switch ev.firstSource() {
	case SourceHTTP, SourceCLI, SourceAlertmanager, SourceJournal, SourceFailover:
		return false
	case SourceReplay:
		return ev.Plan != nil
	}
	return true
}

// Forces reports whether a step of p enables a VIP with force; a nil plan
// forces nothing.
func (p *Plan) Forces() bool {
	if p == nil {
		return false
	}
	for _, s := range p.Steps {
		if s.Force {
			return true
		}
	}
	return false
}

// firstSource is the door the event, or the first event of the line it
// replays, came through.
func (ev *Event) firstSource() Source {
	if ev.Source == SourceReplay && ev.ReplayedSource != "" {
		return ev.ReplayedSource
	}
	return ev.Source
}
