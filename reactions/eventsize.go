package reactions

// MaxCallerBytes bounds what a caller can have journaled with one event:
// the alarm's fields, labels and text, the Genesys arguments and the
// origin, counted together. Each field has its own bound too (see
// Validate); this one keeps their sum to what real alarms use, so that a
// flood of events cannot fill the journal many times faster than
// ordinary ones do.
const MaxCallerBytes = 8 << 10

// callerBytes is the size of the caller's data in ev.
func (ev *Event) callerBytes() int {
	a := ev.Alarm
	n := len(a.ID) + len(a.Condition) + len(a.EventID) + len(a.Application) + len(a.Host) +
		len(a.Severity) + len(a.Text) + len(a.CallbackURL) + len(ev.Origin)
	for k, v := range a.Labels {
		n += len(k) + len(v)
	}
	for k, v := range ev.GenesysArgs {
		n += len(k) + len(v)
	}
	return n
}

func (ev *Event) checkSize() error {
	if n := ev.callerBytes(); n > MaxCallerBytes {
		return Invalid("event carries %d bytes of caller data (id, alarm fields, text, labels, genesys_args, origin together); at most %d are journaled", n, MaxCallerBytes)
	}
	return nil
}
