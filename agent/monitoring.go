package agent

// openMonitoring wires metrics, the Alertmanager receiver and the scheduled
// jobs (reconcile, outbox drain, prune). (Filled in by the monitoring work.)
func (m *Main) openMonitoring() error { return nil }
