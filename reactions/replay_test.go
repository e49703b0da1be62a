package reactions

import "testing"

func TestNeedsAdmin(t *testing.T) {
	plan := &Plan{Reaction: "manual-enable", Steps: []Step{{Action: ActionEnable, VIP: "v"}}}
	forced := &Plan{Reaction: "failover-enable", Steps: []Step{{Action: ActionEnable, VIP: "v", Force: true}}}
	failover := &Plan{Reaction: "failover-enable", Steps: []Step{{Action: ActionEnable, VIP: "v"}}}
	for _, tt := range []struct {
		name string
		ev   *Event
		want bool
	}{
		{"http alarm", &Event{Source: SourceHTTP}, false},
		{"cli alarm", &Event{Source: SourceCLI}, false},
		{"alertmanager alarm", &Event{Source: SourceAlertmanager}, false},
		{"failover", &Event{Source: SourceFailover, Plan: failover}, false},
		{"forced failover", &Event{Source: SourceFailover, Plan: forced}, true},
		{"manual", &Event{Source: SourceManual, Plan: plan}, true},
		{"peer", &Event{Source: SourcePeer, Plan: plan}, true},
		{"replay of an alarm", (&Event{Source: SourceHTTP}).Replay(), false},
		{"replay of a manual action", (&Event{Source: SourceManual, Plan: plan}).Replay(), true},
		{"replay of a replay of a peer action", (&Event{Source: SourcePeer, Plan: plan}).Replay().Replay(), true},
		{"replay of a replay of a failover", (&Event{Source: SourceFailover, Plan: failover}).Replay().Replay(), false},
		{"old replay with a plan", &Event{Source: SourceReplay, Plan: failover}, true},
		{"old replay of an alarm", &Event{Source: SourceReplay}, false},
		{"journal recovery notice", &Event{Source: SourceJournal}, false},
		{"reconcile repair", &Event{Source: SourceReconcile, Plan: plan}, true},
		{"replay of a reconcile repair", (&Event{Source: SourceReconcile, Plan: plan}).Replay(), true},
		{"reconcile report without a repair", &Event{Source: SourceReconcile}, true},
		{"a source added later", &Event{Source: "carrier-pigeon"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ev.NeedsAdmin(); got != tt.want {
				t.Errorf("NeedsAdmin() = %v, want %v", got, tt.want)
			}
		})
	}
}
