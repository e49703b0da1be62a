// Package winhost is a model of the pair's two Windows hosts for the fault
// lab: the addresses on each host's adapters and the NLB cluster's host
// states, kept in one JSON file that fake netsh.exe and nlb.exe programs
// (cmd/winfake, one binary installed under both names, once per host)
// read and change under a lock. The model knows what Wine cannot show:
// netsh's clock (15 s normally, up to 45 s, scaled down for test runs),
// its failure while the NIC's configuration is being accessed, NLB's
// convergence and draining, and a host whose NLB stays converged while its
// agent is down (the model does not depend on the agents at all).
//
// Windows' duplicate address detection is modelled too: netsh adds an
// address that another host holds, and Windows keeps it configured but
// marked duplicate, never using it (Host.Duplicate). Unlike Windows, the
// model drops such an address once no other host holds it: the backend's
// way out of a kept one (delete, then add) needs the DAD state, which
// Windows shows through the IP Helper API and the lab cannot show the
// agents it runs on Linux or under Wine.
//
// The fakes answer like the real programs: `nlb query` prints the English
// messages of the NLB control program with the converged host list, and
// ends with exit code 1 like every processed nlb.exe command; netsh prints
// nothing and exits 0 on success, and a message with exit code 1 on
// failure ("The object already exists.", "Element not found.").
package winhost

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// NLB host states.
const (
	Stopped    = "stopped"
	Converging = "converging"
	Converged  = "converged"
	Draining   = "draining"
)

// Duration is a time.Duration written as text ("45s") in the model file.
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// Config is how the model's hosts behave. Durations are Windows' real
// ones; Scale shrinks them for test runs.
type Config struct {
	// Seed makes the draws (latencies, failures) of a run reproducible in
	// their order: the n-th program run of the model draws from Seed and n.
	Seed uint64 `json:"seed"`
	// Scale multiplies every duration: 1 is Windows' clock, 0.01 turns
	// netsh's 45 s into 450 ms.
	Scale float64 `json:"scale"`
	// NetshMin and NetshMax bound the time a netsh address change takes
	// (the seed: normally under 15 s, up to 30-45 s). The change takes
	// effect part-way through, so a netsh killed at its deadline may or may
	// not have changed the adapter, as on Windows.
	NetshMin Duration `json:"netsh_min"`
	NetshMax Duration `json:"netsh_max"`
	// SlowPercent of netsh runs take between 15 s and NetshMax; the others
	// between NetshMin and 15 s.
	SlowPercent int `json:"slow_percent"`
	// BusyPercent of netsh runs fail because the NIC's configuration is
	// being accessed (the Network Properties dialog is open), changing
	// nothing.
	BusyPercent int `json:"busy_percent"`
	// NLBMax bounds the time an nlb.exe command takes.
	NLBMax Duration `json:"nlb_max"`
	// Converge is how long a started host converges; Drain how long a
	// drainstopped host drains before it is stopped.
	Converge Duration `json:"converge"`
	Drain    Duration `json:"drain"`
}

// DefaultConfig is Windows as the seed describes it, on its own clock.
func DefaultConfig() Config {
	return Config{
		Scale:       1,
		NetshMin:    Duration(time.Second),
		NetshMax:    Duration(45 * time.Second),
		SlowPercent: 10,
		BusyPercent: 5,
		NLBMax:      Duration(time.Second),
		Converge:    Duration(2 * time.Second),
		Drain:       Duration(time.Second),
	}
}

// Host is one Windows host of the pair.
type Host struct {
	// Member is its NLB host priority (RM's member ID).
	Member int `json:"member"`
	// Adapters are its adapters by name, with their addresses (IP/len).
	Adapters map[string][]string `json:"adapters"`
	// NLB is its NLB host state, since Since.
	NLB   string    `json:"nlb"`
	Since time.Time `json:"since"`
	// Converging counts the times it entered a converging state (query
	// prints it, as nlb.exe does).
	Converging int `json:"converging"`
	// Duplicate lists, per adapter, the addresses of Adapters that
	// duplicate address detection refused: configured, never used.
	Duplicate map[string][]string `json:"duplicate,omitempty"`
	// Isolated is set while the host reaches no other host (the lab's
	// partition or link down): its duplicate address detection sees
	// nobody, and nobody's sees it.
	Isolated bool `json:"isolated,omitempty"`
}

// holds reports whether h uses address (IP/len, any length) on adapter:
// configured and not refused as a duplicate.
func (h *Host) holds(adapter, address string) bool {
	same := func(a string) bool { return sameAddr(a, address) }
	return slices.ContainsFunc(h.Adapters[adapter], same) && !slices.ContainsFunc(h.Duplicate[adapter], same)
}

// heldElsewhere reports whether a host other than name uses address on
// adapter; with reachable, only a host name's duplicate address detection
// can see (neither of them isolated).
func (m *Model) heldElsewhere(name, adapter, address string, reachable bool) bool {
	for other, h := range m.Hosts {
		if other == name || reachable && (h.Isolated || m.Hosts[name].Isolated) {
			continue
		}
		if h.holds(adapter, address) {
			return true
		}
	}
	return false
}

// Model is the pair's two hosts and how they behave.
type Model struct {
	Config Config           `json:"config"`
	Hosts  map[string]*Host `json:"hosts"`
	// Runs counts the program runs: the n-th draws from (Seed, n).
	Runs uint64 `json:"runs"`
}

// scaled is d on the model's clock.
func (m *Model) scaled(d Duration) time.Duration {
	return time.Duration(float64(d) * m.Config.Scale)
}

// settle moves hosts whose convergence or draining is over on by now, and
// drops the duplicate addresses no other host holds any more.
func (m *Model) settle(now time.Time) {
	for name, h := range m.Hosts {
		for adapter, dups := range h.Duplicate {
			for _, d := range slices.Clone(dups) {
				if m.heldElsewhere(name, adapter, d, false) {
					continue
				}
				h.Adapters[adapter] = slices.DeleteFunc(h.Adapters[adapter], func(a string) bool { return a == d })
				h.Duplicate[adapter] = slices.DeleteFunc(h.Duplicate[adapter], func(a string) bool { return a == d })
			}
		}
	}
	for _, h := range m.Hosts {
		switch {
		case h.NLB == Converging && !now.Before(h.Since.Add(m.scaled(m.Config.Converge))):
			h.NLB, h.Since = Converged, h.Since.Add(m.scaled(m.Config.Converge))
		case h.NLB == Draining && !now.Before(h.Since.Add(m.scaled(m.Config.Drain))):
			h.NLB, h.Since = Stopped, h.Since.Add(m.scaled(m.Config.Drain))
		}
	}
}

// Cluster lists the member IDs of the hosts taking part in the cluster
// (converging, converged or draining), sorted: what `nlb query` prints.
func (m *Model) Cluster() []int {
	var ids []int
	for _, h := range m.Hosts {
		if h.NLB != Stopped && h.NLB != "" {
			ids = append(ids, h.Member)
		}
	}
	slices.Sort(ids)
	return ids
}

// Holders lists, sorted, the hosts that hold address (IP/len) on adapter:
// with nlb, the hosts that take new traffic (converging or converged);
// otherwise the hosts whose adapter has the address, not as a duplicate.
func (m *Model) Holders(nlb bool, adapter, address string) []string {
	var hs []string
	for name, h := range m.Hosts {
		if nlb && (h.NLB == Converged || h.NLB == Converging) || !nlb && h.holds(adapter, address) {
			hs = append(hs, name)
		}
	}
	slices.Sort(hs)
	return hs
}

// File is a model kept in a JSON file; writers hold an exclusive lock on
// the file path + ".lock" and replace the file atomically, so a reader
// that does not lock (the harness) sees one whole version.
type File string

// Create writes m as a new model file.
func (f File) Create(m *Model) error {
	_, err := f.Update(func(old *Model, _ time.Time) error {
		*old = *m
		return nil
	})
	return err
}

// Read returns the model as of now (convergence and draining settled).
func (f File) Read() (*Model, error) {
	m, err := f.load()
	if err != nil {
		return nil, err
	}
	m.settle(time.Now())
	return m, nil
}

func (f File) load() (*Model, error) {
	b, err := os.ReadFile(string(f))
	if errors.Is(err, os.ErrNotExist) {
		return &Model{Hosts: map[string]*Host{}}, nil
	}
	if err != nil {
		return nil, err
	}
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("model %s: %w", f, err)
	}
	if m.Hosts == nil {
		m.Hosts = map[string]*Host{}
	}
	return &m, nil
}

// Update runs change on the model, settled as of now, under the lock, and
// writes the result unless change fails. It returns the model as written.
func (f File) Update(change func(m *Model, now time.Time) error) (*Model, error) {
	lf, err := os.OpenFile(string(f)+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	if err := lockFile(lf); err != nil {
		return nil, fmt.Errorf("lock model %s: %w", f, err)
	}
	defer unlockFile(lf)
	m, err := f.load()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	m.settle(now)
	if err := change(m, now); err != nil {
		return m, err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(string(f)), filepath.Base(string(f))+".tmp*")
	if err != nil {
		return nil, err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return nil, err
	}
	if err := os.Rename(tmp.Name(), string(f)); err != nil {
		os.Remove(tmp.Name())
		return nil, err
	}
	return m, nil
}

// draw returns the random source of the next program run and counts it.
func (f File) draw() (*rand.Rand, Config, error) {
	var r *rand.Rand
	var cfg Config
	_, err := f.Update(func(m *Model, _ time.Time) error {
		m.Runs++
		r = rand.New(rand.NewPCG(m.Config.Seed, m.Runs))
		cfg = m.Config
		return nil
	})
	return r, cfg, err
}

// between draws a duration in [lo, hi).
func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}
