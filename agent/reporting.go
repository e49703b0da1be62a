package agent

// openReporting wires the report outbox: the journal's outbox policy, the
// delivery job and the /v1/reports routes. (Filled in by the reporting work.)
func (m *Main) openReporting() error { return nil }
