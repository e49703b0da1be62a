package agent

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/schedule"
	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/fake"
	"github.com/vipagent/vipagent/reactions/vip/netsh"
)

// openBackends builds every VIP's backend, in name order.
func (m *Main) openBackends() (map[string]engine.VIP, error) {
	m.backends = map[string]engine.Backend{}
	vips := map[string]engine.VIP{}
	for _, name := range slices.Sorted(maps.Keys(m.Config.VIPs)) {
		v := m.Config.VIPs[name]
		b, err := newBackend(name, v, m.Config.DataDir, m.Config.Nodes[m.Config.Node].MemberID)
		if err != nil {
			return nil, err
		}
		m.backends[name] = b
		vips[name] = engine.VIP{Backend: watchBackend(b, name, m.pair), Kind: v.Backend, Timeout: vipTimeout(m.Config, v)}
	}
	return vips, nil
}

// vipTimeout is a VIP's step timeout: its own, or else step_timeout, but
// for netsh never under the time netsh can take to change an address.
func vipTimeout(c *config.Config, v config.VIP) time.Duration {
	if d := v.Timeout.D(); d > 0 {
		return d
	}
	if v.Backend == "netsh" {
		return max(c.StepTimeout.D(), netsh.DefaultTimeout)
	}
	return c.StepTimeout.D()
}

// closer is a backend that holds resources (sockets, announcing goroutines).
type closer interface{ Close() error }

// newBackend builds the backend a VIP's config names. Only the names listed
// here exist; a real host never falls back to the fake backend. memberID is
// this node's RM member ID (0: none).
func newBackend(name string, v config.VIP, dataDir string, memberID int) (engine.Backend, error) {
	spec := vip.Spec{Name: name, Prefix: v.Prefix(), Interface: v.Interface, DataDir: dataDir, MemberID: memberID}
	var (
		b   engine.Backend
		err error
	)
	switch v.Backend {
	case "fake":
		b, err = fake.New(spec, v.Options)
	default:
		b, err = newOSBackend(v.Backend, spec, v.Options)
	}
	if err != nil {
		return nil, &backendError{vip: name, kind: v.Backend, err: err}
	}
	return b, nil
}

// backendError names the VIP and its backend once, whether or not the
// backend's own error starts with "<kind> backend: " already.
type backendError struct {
	vip, kind string
	err       error
}

func (e *backendError) Error() string {
	prefix := e.kind + " backend: "
	return "vips." + e.vip + ": " + prefix + strings.TrimPrefix(e.err.Error(), prefix)
}

func (e *backendError) Unwrap() error { return e.err }

// Check builds every VIP's backend without a data directory, so that
// `config check` reports bad options without touching state; it also parses
// the schedules, which the config package cannot, and that data_dir, if
// it exists, is a directory.
func Check(c *config.Config) []string {
	var probs []string
	for _, s := range []struct{ name, spec string }{
		{"reconcile", c.Schedules.Reconcile}, {"drain_outbox", c.Schedules.DrainOutbox}, {"prune", c.Schedules.Prune},
		{"observe", c.Schedules.Observe}, {"probe_peers", c.Schedules.ProbePeers},
	} {
		if err := schedule.Check(s.spec); err != nil {
			probs = append(probs, fmt.Sprintf("schedules.%s: %q is not a cron schedule (try \"@every 30s\" or \"off\"): %v", s.name, s.spec, err))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.VIPs)) {
		if !c.VIPs[name].Prefix().IsValid() {
			continue // Validate reports the address; a backend would only repeat it
		}
		b, err := newBackend(name, c.VIPs[name], "", c.Nodes[c.Node].MemberID)
		if err != nil {
			probs = append(probs, err.Error())
			continue
		}
		if cl, ok := b.(closer); ok {
			cl.Close()
		}
	}
	if why := checkDataDir(c.DataDir); why != "" {
		probs = append(probs, "data_dir: "+why)
	}
	return probs
}

// FailoverBound is how long `failover enable X` may take on c: every node
// of the pair takes a step on each failover VIP (the others release it, X
// enables it), one after the other, each bounded by its VIP's timeout. The
// hook's default wait covers it, so a slow but healthy move (netsh's 45 s
// twice) is not reported as an unknown outcome.
func FailoverBound(c *config.Config) time.Duration {
	var d time.Duration
	for _, name := range Failover(c).VIPs {
		if v, ok := c.VIPs[name]; ok {
			d += time.Duration(len(c.Nodes)) * vipTimeout(c, v)
		}
	}
	return d
}
