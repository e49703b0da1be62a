package metrics_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/metrics"
	"github.com/vipagent/vipagent/reactions"
)

func TestPairGauges(t *testing.T) {
	at := time.Unix(1700000000, 0)
	vips := []metrics.VIP{{Name: "rm-vip", Address: "192.0.2.100/24", Backend: "netsh"}, {Name: "other", Address: "192.0.2.101/24", Backend: "fake"}}
	tests := []struct {
		name     string
		feed     func(p *metrics.Pair)
		inFlight int
		load     map[string]metrics.Load
		want     map[string]float64
	}{
		{
			name: "nothing known yet",
			want: map[string]float64{
				// Never observed: stale from the start, not missing.
				"vipagent_vip_observed_timestamp_seconds{node=rm1,vip=rm-vip}": 0,
				"vipagent_vip_observed_timestamp_seconds{node=rm1,vip=other}":  0,
				"vipagent_events_in_flight":                                    0,
				"vipagent_vip_events_running{vip=rm-vip}":                      0,
				"vipagent_vip_events_queued{vip=rm-vip}":                       0,
				"vipagent_vip_events_running{vip=other}":                       0,
				"vipagent_vip_events_queued{vip=other}":                        0,
				"vipagent_journal_recoveries_total":                            0,
				"vipagent_steps_total{backend=netsh,outcome=failed}":           0,
				"vipagent_steps_total{backend=netsh,outcome=timeout}":          0,
			},
		},
		{
			name: "observations, peers, reconcile, load",
			feed: func(p *metrics.Pair) {
				p.Observed("rm-vip", reactions.VIPState{Present: false}, at.Add(-time.Minute))
				p.Observed("rm-vip", reactions.VIPState{Present: true}, at)
				// An older observation arriving late does not win.
				p.Observed("rm-vip", reactions.VIPState{Present: false}, at.Add(-time.Second))
				// Names not configured never become label values.
				p.Observed("from-a-request", reactions.VIPState{Present: true}, at)
				// The cluster's own count of holders (NLB), when the
				// backend has one.
				p.Observed("other", reactions.VIPState{Present: true, Holders: 2}, at)
				p.PeerUp("rm2", true)
				p.PeerUp("rm2", false)
				p.PeerUp("rm9", true)
				p.ReconcileRan(at.Add(-30*time.Second), nil)
				p.ReconcileRan(at, errors.New("peer gone"))
			},
			inFlight: 3,
			load:     map[string]metrics.Load{"rm-vip": {Running: 1, Queued: 2}, "unknown": {Queued: 5}},
			want: map[string]float64{
				"vipagent_vip_present{address=192.0.2.100/24,backend=netsh,node=rm1,vip=rm-vip}":       1,
				"vipagent_vip_observed_timestamp_seconds{node=rm1,vip=rm-vip}":                         1700000000,
				"vipagent_vip_observed_timestamp_seconds{node=rm1,vip=other}":                          1700000000,
				"vipagent_vip_present{address=192.0.2.101/24,backend=fake,node=rm1,vip=other}":         1,
				"vipagent_vip_cluster_holders{address=192.0.2.101/24,backend=fake,node=rm1,vip=other}": 2,
				"vipagent_peer_up{node=rm2}":                          0,
				"vipagent_reconcile_last_run_timestamp_seconds":       1700000000,
				"vipagent_reconcile_last_success_timestamp_seconds":   1699999970,
				"vipagent_events_in_flight":                           3,
				"vipagent_vip_events_running{vip=rm-vip}":             1,
				"vipagent_vip_events_queued{vip=rm-vip}":              2,
				"vipagent_vip_events_running{vip=other}":              0,
				"vipagent_vip_events_queued{vip=other}":               0,
				"vipagent_journal_recoveries_total":                   1,
				"vipagent_steps_total{backend=netsh,outcome=failed}":  0,
				"vipagent_steps_total{backend=netsh,outcome=timeout}": 0,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metrics.New(nil, zerolog.Nop())
			m.StepKinds("netsh")
			p := m.Watch("rm1", vips, []string{"rm2"})
			p.CountLoad(func() (int, map[string]metrics.Load) { return tt.inFlight, tt.load })
			if tt.feed != nil {
				tt.feed(p)
				m.JournalRecovered()
			}
			got := scrape(t, m.Handler())
			for k := range got {
				if !pairMetric(k) {
					delete(got, k)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("pair metrics (-want +got):\n%s", diff)
			}
		})
	}
}

func pairMetric(k string) bool {
	for _, p := range []string{"vipagent_vip_", "vipagent_peer_up", "vipagent_reconcile_last", "vipagent_events_in_flight", "vipagent_journal_recoveries", "vipagent_steps_total"} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

func TestBuildInfo(t *testing.T) {
	got := scrape(t, metrics.New(nil, zerolog.Nop()).Handler())
	n := 0
	for k, v := range got {
		if strings.HasPrefix(k, "vipagent_build_info{") {
			n++
			if v != 1 {
				t.Errorf("%s = %v, want 1", k, v)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d vipagent_build_info series, want 1: %v", n, got)
	}
}

// slowJournal blocks its reads until released.
type slowJournal struct{ release chan struct{} }

func (s slowJournal) Stats() (journal.Stats, error) {
	<-s.release
	return journal.Stats{Events: 7, Bytes: 4096}, nil
}

func (s slowJournal) Reports(journal.ReportFilter) ([]journal.Report, error) {
	<-s.release
	return nil, nil
}

// A journal that does not answer delays a scrape by at most a bounded
// wait; its gauges come back once it answers.
func TestJournalSlow(t *testing.T) {
	j := slowJournal{release: make(chan struct{})}
	m := metrics.New(j, zerolog.Nop())
	m.Delivery("delivered")
	got := scrape(t, m.Handler())
	if got["vipagent_report_deliveries_total{result=delivered}"] != 1 {
		t.Errorf("counters missing while the journal is slow: %v", got)
	}
	if _, ok := got["vipagent_journal_events"]; ok {
		t.Error("journal gauges served before the journal answered")
	}
	close(j.release)
	agenttest.Eventually(t, 10*time.Second, func() bool {
		got = scrape(t, m.Handler())
		return got["vipagent_journal_events"] == 7
	}, func() string { return fmt.Sprintf("journal gauges still missing after the journal answered: %v", got) })
}
