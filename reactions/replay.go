package reactions

// NeedsAdmin reports whether running ev (again) needs the admin role rather
// than trigger: manual VIP actions and peer-originated events (which only
// admin may ask for), and anything whose plan forces an enable past the
// duplicate-address check. Alarm and failover events replay with trigger.
// A replay of unknown lineage (journaled before ReplayedSource existed)
// that carries a plan is treated as admin's: the safe answer.
func (ev *Event) NeedsAdmin() bool {
	if ev.Plan != nil {
		for _, s := range ev.Plan.Steps {
			if s.Force {
				return true
			}
		}
	}
	switch ev.firstSource() {
	case SourceManual, SourcePeer:
		return true
	case SourceReplay:
		return ev.Plan != nil
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
