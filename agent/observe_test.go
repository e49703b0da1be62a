package agent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
)

// scrapeLimit is the upper bound a scrape must answer within, however
// busy or stuck the agent is: far below any real hang, far above a
// loaded CI machine's scrape.
const scrapeLimit = 3 * time.Second

// servedAgent opens node's agent of the pair rm1/rm2 (peers at addrs),
// lets change adjust its configuration, and serves it with its periodic
// jobs on addrs[node] until the test ends.
func servedAgent(t *testing.T, node string, addrs map[string]string, initial string, change func(*config.Config)) *Main {
	t.Helper()
	c := monConfig(t, node, addrs, false, initial)
	c.Listen = addrs[node]
	c.Limits.RatePerMinute = 0
	c.Schedules.Observe = "@every 1s"
	c.Schedules.ProbePeers = "@every 1s"
	c.Schedules.Reconcile = "@every 1s"
	if change != nil {
		change(c)
	}
	log := zerolog.Nop()
	m, err := Open(c, Options{Logger: &log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Close(ctx)
	})
	if err := m.Serve(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// scrapeText fetches /metrics, failing the test if it takes longer than
// scrapeLimit.
func scrapeText(t *testing.T, addr string) string {
	t.Helper()
	body, err := scrapeWithin(addr, scrapeLimit)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func scrapeWithin(addr string, limit time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+monToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("scrape %s (limit %s): %w", addr, limit, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("scrape %s: %s %v: %s", addr, resp.Status, err, body)
	}
	return string(body), nil
}

// sample returns the value of the sample named exactly line's name and
// labels (as exposed, e.g. `vipagent_peer_up{node="rm2"}`), if present.
func sample(body, series string) (string, bool) {
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v, true
		}
	}
	return "", false
}

// waitSample scrapes until series has value want, each scrape bounded by
// scrapeLimit and the whole wait by limit.
func waitSample(t *testing.T, addr, series, want string, limit time.Duration) string {
	t.Helper()
	var body string
	agenttest.Eventually(t, limit, func() bool {
		body = scrapeText(t, addr)
		v, ok := sample(body, series)
		return ok && v == want
	}, func() string {
		v, _ := sample(body, series)
		return fmt.Sprintf("%s is %q, want %s", series, v, want)
	})
	return body
}

// A real agent, after a step, a reconcile pass and a probe of a dead peer,
// exposes every series and label the shipped rules and dashboard use
// (legends and alert annotations included), and its
// exposition is clean under promtool check metrics.
func TestRulesAndDashboardMetricsExposed(t *testing.T) {
	ln1, gone := monListen(t), monListen(t)
	addrs := map[string]string{"rm1": ln1.Addr().String(), "rm2": gone.Addr().String()}
	ln1.Close()
	gone.Close() // rm2's agent is not running
	m := servedAgent(t, "rm1", addrs, "present", nil)
	req, _ := http.NewRequest(http.MethodPost, "http://"+m.Addr()+"/v1/vips/rm-vip/disable?wait=10s", strings.NewReader(`{"reason":"metrics test"}`))
	req.Header.Set("Authorization", "Bearer "+monToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("disable: %s", resp.Status)
	}
	waitSample(t, m.Addr(), `vipagent_peer_up{node="rm2"}`, "0", 15*time.Second)
	body := waitSample(t, m.Addr(), `vipagent_vip_present{address="192.0.2.100/24",backend="fake",node="rm1",vip="rm-vip"}`, "0", 15*time.Second)
	agenttest.Eventually(t, 15*time.Second, func() bool {
		if v, _ := sample(body, "vipagent_reconcile_last_success_timestamp_seconds"); v != "0" && v != "" {
			return true
		}
		body = scrapeText(t, m.Addr())
		return false
	}, "no successful reconcile pass")
	if diff := cmp.Diff(map[string][]string{}, unexposedRefs(t, body)); diff != "" {
		t.Errorf("series and labels used by the rules or the dashboard that the agent does not expose (-want +got):\n%s", diff)
	}

	t.Run("promtool check metrics", func(t *testing.T) {
		promtool := agenttest.RequireProgram(t, "promtool", "prometheus")
		cmd := exec.CommandContext(t.Context(), promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	})
}

// flakyPeer is a peer agent's /healthz that answers, stops answering
// (frozen: connections hang) or is gone (connections refused).
type flakyPeer struct {
	srv    *httptest.Server
	frozen atomic.Bool
	// release unblocks frozen requests when the test ends.
	release chan struct{}
}

func newFlakyPeer(t *testing.T) *flakyPeer {
	p := &flakyPeer{release: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.frozen.Load() {
			select {
			case <-p.release:
			case <-r.Context().Done():
			}
			return
		}
		w.Write([]byte(`{"status":"alive"}`))
	}))
	t.Cleanup(func() {
		close(p.release)
		p.srv.Close()
	})
	return p
}

// A peer that dies or freezes turns vipagent_peer_up to 0 within a probe
// interval plus the probe's timeout, and /metrics answers promptly all
// along.
func TestPeerUpFollowsProbes(t *testing.T) {
	tests := []struct {
		name string
		fail func(p *flakyPeer)
	}{
		{"frozen", func(p *flakyPeer) { p.frozen.Store(true) }},
		{"gone", func(p *flakyPeer) { p.srv.CloseClientConnections(); p.srv.Listener.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer := newFlakyPeer(t)
			ln := monListen(t)
			addrs := map[string]string{"rm1": ln.Addr().String(), "rm2": strings.TrimPrefix(peer.srv.URL, "http://")}
			ln.Close()
			m := servedAgent(t, "rm1", addrs, "present", func(c *config.Config) { c.Schedules.Reconcile = "off" })
			waitSample(t, m.Addr(), `vipagent_peer_up{node="rm2"}`, "1", 15*time.Second)
			tt.fail(peer)
			// One probe interval (1s) plus the probe's own bound, and slack
			// for a loaded machine; every scrape meanwhile within scrapeLimit.
			waitSample(t, m.Addr(), `vipagent_peer_up{node="rm2"}`, "0", time.Second+probeTimeout+5*time.Second)
		})
	}
}

// Scrapes answer promptly from cached gauges while a backend hangs, while
// the journal takes a storm of writes, and while the agent shuts down.
func TestScrapesAnswerPromptly(t *testing.T) {
	tests := []struct {
		name string
		// options of rm-vip's fake backend
		options map[string]any
		// trouble starts the trouble and returns a function that ends it.
		trouble func(t *testing.T, m *Main) func()
		// want are samples every scrape during the trouble shows.
		want []string
	}{
		{
			name:    "backend hangs",
			options: map[string]any{"hang": true, "hang_observe": true, "persist": false},
			trouble: func(t *testing.T, m *Main) func() {
				submitAction(t, m, reactions.ActionEnable)
				return func() {}
			},
			// Never observed: the timestamp says so (ObservationStale fires),
			// and no presence is made up.
			want: []string{`vipagent_vip_events_running{vip="rm-vip"} 1`, `vipagent_events_in_flight 1`, `vipagent_vip_observed_timestamp_seconds{node="rm1",vip="rm-vip"} 0`},
		},
		{
			name:    "journal write storm",
			options: map[string]any{"initial": "present", "persist": false},
			trouble: func(t *testing.T, m *Main) func() {
				stop := make(chan struct{})
				var wg sync.WaitGroup
				for w := range 8 {
					wg.Go(func() {
						for i := 0; ; i++ {
							select {
							case <-stop:
								return
							default:
							}
							ev := &reactions.Event{Key: fmt.Sprintf("storm-%d-%d", w, i), Source: reactions.SourceHTTP, Alarm: reactions.Alarm{Condition: "Noise"}}
							if _, _, err := m.Engine.Submit(ev); err != nil {
								time.Sleep(time.Millisecond) // full: let it drain
							}
						}
					})
				}
				return func() { close(stop); wg.Wait() }
			},
			want: []string{`vipagent_vip_present{address="192.0.2.100/24",backend="fake",node="rm1",vip="rm-vip"} 1`},
		},
		{
			name:    "shutdown",
			options: map[string]any{"hang": true, "persist": false},
			trouble: func(t *testing.T, m *Main) func() {
				submitAction(t, m, reactions.ActionEnable)
				closed := make(chan error, 1)
				go func() {
					// The hanging step holds Close for its grace period.
					ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
					defer cancel()
					closed <- m.Close(ctx)
				}()
				agenttest.Eventually(t, 10*time.Second, m.Engine.Draining, "Close did not begin draining the engine")
				return func() { <-closed }
			},
			want: []string{`vipagent_vip_present{address="192.0.2.100/24",backend="fake",node="rm1",vip="rm-vip"} 0`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln := monListen(t)
			addrs := map[string]string{"rm1": ln.Addr().String()}
			ln.Close()
			m := servedAgent(t, "rm1", addrs, "", func(c *config.Config) {
				v := c.VIPs["rm-vip"]
				v.Options = tt.options
				c.VIPs["rm-vip"] = v
				c.Schedules.Reconcile = "off"
			})
			if _, hangs := tt.options["hang_observe"]; !hangs {
				waitSample(t, m.Addr(), `vipagent_vip_present{address="192.0.2.100/24",backend="fake",node="rm1",vip="rm-vip"}`, map[bool]string{true: "1", false: "0"}[tt.options["initial"] == "present"], 15*time.Second)
			}
			end := tt.trouble(t, m)
			defer end()
			// Ten scrapes while the trouble lasts: the sleep between them is
			// the trouble's time to act, not a wait for something.
			for range 10 {
				body := scrapeText(t, m.Addr())
				for _, w := range tt.want {
					if !strings.Contains(body, w+"\n") {
						t.Errorf("scrape lacks %q", w)
					}
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// submitAction starts a manual action on rm-vip without waiting for it.
func submitAction(t *testing.T, m *Main, action reactions.Action) {
	t.Helper()
	ev := &reactions.Event{
		Source: reactions.SourceManual,
		Alarm:  reactions.Alarm{Condition: "Manual"},
		Plan:   &reactions.Plan{Reaction: "manual", Steps: []reactions.Step{{Action: action, VIP: "rm-vip", Timeout: 5 * time.Second}}},
	}
	if _, _, err := m.Engine.Submit(ev); err != nil {
		t.Fatal(err)
	}
	var n int
	var qs map[string]engine.Queue
	agenttest.Eventually(t, 10*time.Second, func() bool {
		n, qs = m.Engine.Queues()
		return n == 1 && qs["rm-vip"].Running == 1
	}, func() string { return fmt.Sprintf("the action did not start: %d in flight, %v", n, qs) })
}

// For the external tests that run the vipagent binary against served
// agents.
var ServedAgent = servedAgent

const MonToken = monToken

// A call to a peer that the caller gives up on (the peer's agent answers
// /healthz, its backend is slow) says nothing about the peer: only a call
// that gets no connection, or the probe, turns vipagent_peer_up to 0.
func TestPeerUpIgnoresCallsGivenUp(t *testing.T) {
	tests := []struct {
		name string
		// gone closes the peer before the call: connections are refused.
		gone bool
		want string
	}{
		{name: "slow backend", want: "1"},
		{name: "gone", gone: true, want: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			peerSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/healthz" {
					select { // observing the VIP hangs, as netsh does
					case <-release:
					case <-r.Context().Done():
					}
					return
				}
				w.Write([]byte(`{"status":"alive"}`))
			}))
			t.Cleanup(func() { close(release); peerSrv.Close() })
			ln := monListen(t)
			addrs := map[string]string{"rm1": ln.Addr().String(), "rm2": strings.TrimPrefix(peerSrv.URL, "http://")}
			ln.Close()
			m := servedAgent(t, "rm1", addrs, "present", func(c *config.Config) {
				c.Schedules.Reconcile, c.Schedules.ProbePeers = "off", "off"
			})
			waitSample(t, m.Addr(), `vipagent_peer_up{node="rm2"}`, "1", 15*time.Second)
			if tt.gone {
				peerSrv.CloseClientConnections()
				peerSrv.Listener.Close()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			if _, err := (watchedPeers{m.peers, m.pair}).VIP(ctx, "rm2", "rm-vip"); err == nil {
				t.Fatal("the call to rm2 succeeded")
			}
			if v, _ := sample(scrapeText(t, m.Addr()), `vipagent_peer_up{node="rm2"}`); v != tt.want {
				t.Errorf("vipagent_peer_up{node=rm2} = %q after the call, want %s", v, tt.want)
			}
		})
	}
}
