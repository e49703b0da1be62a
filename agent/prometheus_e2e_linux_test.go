package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/templates"
)

// The e2e test's Prometheus scrapes and evaluates every second.
const e2eInterval = time.Second

// program is a real program the test started; it is killed when the test
// ends and its output shown if the test failed.
type program struct {
	name string
	cmd  *exec.Cmd
	out  *agenttest.Buffer
}

func startProgram(t *testing.T, path string, args ...string) *program {
	t.Helper()
	p := &program{name: filepath.Base(path), cmd: exec.Command(path, args...), out: &agenttest.Buffer{}}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", p.name, p.out.String())
		}
	})
	return p
}

// getJSONWithin GETs url into v, bounded.
func getJSONWithin(url string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return json.Unmarshal(body, v)
}

// eventually returns once check returns nil, and fails the test with what
// and check's last error when it has not within limit.
func eventually(t *testing.T, limit time.Duration, what string, check func() error) {
	t.Helper()
	var err error
	agenttest.Eventually(t, limit, func() bool {
		err = check()
		return err == nil
	}, func() string { return fmt.Sprintf("%s: %v", what, err) })
}

// amAlert is an alert as Alertmanager's API v2 lists it.
type amAlert struct {
	Labels   map[string]string `json:"labels"`
	StartsAt time.Time         `json:"startsAt"`
	EndsAt   time.Time         `json:"endsAt"`
	Status   struct {
		State string `json:"state"`
	} `json:"status"`
}

// promAlert is an alert as Prometheus' /api/v1/alerts lists it.
type promAlert struct {
	Labels   map[string]string `json:"labels"`
	State    string            `json:"state"`
	ActiveAt time.Time         `json:"activeAt"`
}

// ruleFor is the for: of alert in the shipped rules.
func ruleFor(t *testing.T, rules []byte, alert string) time.Duration {
	t.Helper()
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				For   string `yaml:"for"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(rules, &f); err != nil {
		t.Fatal(err)
	}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == alert {
				d, err := time.ParseDuration(r.For)
				if err != nil {
					t.Fatalf("%s: for: %v", alert, err)
				}
				return d
			}
		}
	}
	t.Fatalf("no alert %s in the shipped rules", alert)
	return 0
}

// Two agents, a real Prometheus with the shipped rules and a real
// Alertmanager: the VIP forced on both nodes raises VIPOnTwoNodes in
// Alertmanager within the rule's for: plus an evaluation interval (plus
// slack for a loaded machine, as an upper bound of the wait), and the
// repair resolves it.
func TestPrometheusAlertsTwoHolders(t *testing.T) {
	promPath := agenttest.RequireProgram(t, "prometheus", "prometheus")
	amPath, err := exec.LookPath("prometheus-alertmanager") // Debian's name
	if err != nil {
		amPath = agenttest.RequireProgram(t, "alertmanager", "prometheus-alertmanager")
	}
	dir := t.TempDir()
	rules, err := templates.Monitoring.ReadFile("prometheus/vipagent-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	forTwo := ruleFor(t, rules, "VIPOnTwoNodes")

	ln1, ln2 := monListen(t), monListen(t)
	addrs := map[string]string{"rm1": ln1.Addr().String(), "rm2": ln2.Addr().String()}
	ln1.Close()
	ln2.Close()
	servedAgent(t, "rm1", addrs, "present", nil)
	rm2 := servedAgent(t, "rm2", addrs, "absent", nil)

	amAddr, promAddr := freeLoopback(t), freeLoopback(t)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	amCfg := write("alertmanager.yml", `route:
  receiver: blackhole
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: blackhole
`)
	rulesPath := write("vipagent-rules.yml", string(rules))
	promCfg := write("prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: %[1]s
  scrape_timeout: %[1]s
  evaluation_interval: %[1]s
rule_files: [%[2]q]
alerting:
  alertmanagers:
    - static_configs: [{targets: [%[3]q]}]
scrape_configs:
  - job_name: vipagent
    authorization: {credentials: %[4]q}
    static_configs: [{targets: [%[5]q, %[6]q]}]
`, e2eInterval, rulesPath, amAddr, monToken, addrs["rm1"], addrs["rm2"]))

	start := time.Now()
	startProgram(t, amPath, "--config.file="+amCfg, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	startProgram(t, promPath, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "prom"),
		"--web.listen-address="+promAddr)

	promQuery := func(q string) ([]float64, error) {
		var r struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := getJSONWithin("http://"+promAddr+"/api/v1/query?query="+url.QueryEscape(q), &r); err != nil {
			return nil, err
		}
		var out []float64
		for _, s := range r.Data.Result {
			var v float64
			fmt.Sscan(fmt.Sprint(s.Value[1]), &v)
			out = append(out, v)
		}
		return out, nil
	}
	amAlerts := func() ([]amAlert, error) {
		var as []amAlert
		err := getJSONWithin("http://"+amAddr+"/api/v2/alerts?filter="+url.QueryEscape(`alertname="VIPOnTwoNodes"`), &as)
		return as, err
	}
	// Both agents scraped, the pair healthy: one holder.
	eventually(t, 30*time.Second, "Prometheus and Alertmanager not ready with both agents scraped", func() error {
		v, err := promQuery(`sum by (vip) (vipagent_vip_present)`)
		switch {
		case err != nil:
			return err
		case len(v) != 1 || v[0] != 1:
			return fmt.Errorf("holders of rm-vip as Prometheus sees them: %v, want [1]", v)
		}
		up, err := promQuery(`sum(up{job="vipagent"})`)
		if err != nil || len(up) != 1 || up[0] != 2 {
			return fmt.Errorf("agents up: %v %v, want 2", up, err)
		}
		_, err = amAlerts()
		return err
	})
	if as, _ := amAlerts(); len(as) != 0 {
		t.Fatalf("VIPOnTwoNodes already in Alertmanager before the fault: %+v", as)
	}

	forced := time.Now()
	if err := (&monAgent{Main: rm2}).fake(t).Set(true); err != nil {
		t.Fatal(err)
	}
	// Prometheus sees two holders after an observation, a scrape and an
	// evaluation: the alert goes pending.
	var pending promAlert
	eventually(t, 3*e2eInterval+15*time.Second, "VIPOnTwoNodes never pending", func() error {
		var r struct {
			Data struct {
				Alerts []promAlert `json:"alerts"`
			} `json:"data"`
		}
		if err := getJSONWithin("http://"+promAddr+"/api/v1/alerts", &r); err != nil {
			return err
		}
		for _, a := range r.Data.Alerts {
			if a.Labels["alertname"] == "VIPOnTwoNodes" && a.Labels["vip"] == "rm-vip" {
				pending = a
				return nil
			}
		}
		return fmt.Errorf("VIPOnTwoNodes not active in Prometheus: %+v", r.Data.Alerts)
	})
	if pending.ActiveAt.Before(forced.Add(-time.Second)) {
		t.Errorf("VIPOnTwoNodes active since %s, before the fault at %s", pending.ActiveAt, forced)
	}
	// It reaches Alertmanager within for: plus one evaluation interval of
	// becoming active; the slack only bounds the wait on a loaded machine.
	const slack = 10 * time.Second
	var fired amAlert
	eventually(t, time.Until(pending.ActiveAt.Add(forTwo+e2eInterval+slack)), fmt.Sprintf("active in Prometheus since %s, for: %s", pending.ActiveAt, forTwo), func() error {
		as, err := amAlerts()
		if err != nil {
			return err
		}
		for _, a := range as {
			if a.Labels["vip"] == "rm-vip" && a.Status.State == "active" {
				fired = a
				return nil
			}
		}
		return fmt.Errorf("VIPOnTwoNodes not active in Alertmanager: %+v", as)
	})
	if early := pending.ActiveAt.Add(forTwo - e2eInterval); fired.StartsAt.Before(early) {
		t.Errorf("alert starts at %s in Alertmanager, before its for: (%s) had passed since %s", fired.StartsAt, forTwo, pending.ActiveAt)
	}
	if fired.Labels["severity"] != "critical" {
		t.Errorf("alert labels %v, want severity critical", fired.Labels)
	}
	firedAfter := time.Since(forced)

	// The repair: the alert resolves (Alertmanager no longer lists it as
	// active) after an observation, a scrape and an evaluation.
	if err := (&monAgent{Main: rm2}).fake(t).Set(false); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*e2eInterval+slack+5*time.Second, "VIPOnTwoNodes never resolved", func() error {
		as, err := amAlerts()
		if err != nil {
			return err
		}
		for _, a := range as {
			if a.Status.State == "active" && (a.EndsAt.IsZero() || a.EndsAt.After(time.Now())) {
				return fmt.Errorf("VIPOnTwoNodes still active in Alertmanager: %+v", a)
			}
		}
		return nil
	})
	t.Logf("VIPOnTwoNodes reached Alertmanager %s after the fault (for: %s) and resolved after the repair; test ran %s",
		firedAfter.Round(100*time.Millisecond), forTwo, time.Since(start).Round(100*time.Millisecond))
}

// freeLoopback returns a loopback address nothing listens on now.
func freeLoopback(t *testing.T) string {
	t.Helper()
	ln := monListen(t)
	defer ln.Close()
	return ln.Addr().String()
}
