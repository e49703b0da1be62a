package metrics_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/metrics"
	"github.com/vipagent/vipagent/reactions"
)

// scrape fetches /metrics and returns every sample as "name{labels}" ->
// value (histograms as their _count and _sum).
func scrape(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			key := name
			if len(m.GetLabel()) > 0 {
				key += "{"
				for i, l := range m.GetLabel() {
					if i > 0 {
						key += ","
					}
					key += l.GetName() + "=" + l.GetValue()
				}
				key += "}"
			}
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
				out[key+"_sum"] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

func pick(all map[string]float64, keys ...string) map[string]float64 {
	out := map[string]float64{}
	for _, k := range keys {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out
}

func TestObserverAndHooks(t *testing.T) {
	m := metrics.New(nil, zerolog.Nop())
	m.StepDone("fake", reactions.StepResult{Outcome: reactions.OutcomeChanged, DurationMS: 250})
	m.StepDone("fake", reactions.StepResult{Outcome: reactions.OutcomeChanged, DurationMS: 750})
	m.StepDone("peer", reactions.StepResult{Outcome: reactions.OutcomeFailed, DurationMS: 2000})
	m.EventDone(&reactions.Event{Source: reactions.SourceAlertmanager, Status: reactions.StatusSucceeded})
	m.EventDone(&reactions.Event{Source: reactions.SourceAlertmanager, Status: reactions.StatusSucceeded})
	m.EventDone(&reactions.Event{Source: reactions.SourceReconcile, Status: reactions.StatusUnmatched})
	m.Delivery("delivered")
	m.Delivery("retry")
	m.Delivery("retry")
	m.Drift("both")

	got := scrape(t, m.Handler())
	want := map[string]float64{
		"vipagent_steps_total{backend=fake,outcome=changed}":          2,
		"vipagent_steps_total{backend=peer,outcome=failed}":           1,
		"vipagent_step_duration_seconds{backend=fake}_count":          2,
		"vipagent_step_duration_seconds{backend=fake}_sum":            1,
		"vipagent_step_duration_seconds{backend=peer}_count":          1,
		"vipagent_alarms_total{source=alertmanager,status=succeeded}": 2,
		"vipagent_alarms_total{source=reconcile,status=unmatched}":    1,
		"vipagent_report_deliveries_total{result=delivered}":          1,
		"vipagent_report_deliveries_total{result=retry}":              2,
		"vipagent_reconcile_drift_total{kind=both}":                   1,
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	if diff := cmp.Diff(want, pick(got, keys...)); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	if _, ok := got["vipagent_journal_events"]; ok {
		t.Error("journal gauges present without a journal")
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("go runtime metrics missing")
	}
}

func TestJournalGauges(t *testing.T) {
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"), journal.Options{Node: "rm1"})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, key := range []string{"a", "b", "c"} {
		if _, _, err := j.Accept(&reactions.Event{Key: key, Source: reactions.SourceHTTP, Alarm: reactions.Alarm{Condition: "X"}}); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Now().Add(-90 * time.Second)
	if err := j.AddReports([]journal.Report{
		{ID: "r1", EventID: "e1", Target: "t", URL: "http://198.51.100.1/", Body: []byte(`{}`), Created: created},
		{ID: "r2", EventID: "e2", Target: "t", URL: "http://198.51.100.1/", Body: []byte(`{}`), Created: time.Now()},
		{ID: "r3", EventID: "e3", Target: "t", URL: "http://198.51.100.1/", Body: []byte(`{}`), State: journal.ReportDelivered, Created: created.Add(-time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	got := scrape(t, metrics.New(j, zerolog.Nop()).Handler())
	if got["vipagent_journal_events"] != 3 {
		t.Errorf("vipagent_journal_events = %v, want 3", got["vipagent_journal_events"])
	}
	if got["vipagent_journal_bytes"] <= 0 {
		t.Errorf("vipagent_journal_bytes = %v, want > 0", got["vipagent_journal_bytes"])
	}
	if got["vipagent_outbox_pending"] != 2 {
		t.Errorf("vipagent_outbox_pending = %v, want 2", got["vipagent_outbox_pending"])
	}
	// The delivered report is older but does not count.
	if age := got["vipagent_outbox_oldest_pending_seconds"]; age < 90 || age > 120 {
		t.Errorf("vipagent_outbox_oldest_pending_seconds = %v, want about 90", age)
	}
}

type brokenJournal struct{}

func (brokenJournal) Stats() (journal.Stats, error) { return journal.Stats{}, errors.New("disk gone") }
func (brokenJournal) Reports(journal.ReportFilter) ([]journal.Report, error) {
	return nil, errors.New("disk gone")
}

// A journal that cannot be read leaves its gauges out; the rest is served.
func TestJournalUnreadable(t *testing.T) {
	m := metrics.New(brokenJournal{}, zerolog.Nop())
	m.Delivery("delivered")
	got := scrape(t, m.Handler())
	if got["vipagent_report_deliveries_total{result=delivered}"] != 1 {
		t.Errorf("counters missing when the journal is unreadable: %v", got)
	}
	for _, name := range []string{"vipagent_journal_events", "vipagent_journal_bytes", "vipagent_outbox_pending"} {
		if _, ok := got[name]; ok {
			t.Errorf("%s served although the journal is unreadable", name)
		}
	}
}
