// Package fake is an in-memory VIP backend for demos and tests. It is only
// ever used when the configuration names it: it never stands in for a real
// backend. With a state file it keeps its state across restarts, so a demo
// behaves the same whether the agent or `vipagent fire --direct` acts.
package fake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip"
)

// Options are the fake backend's configuration options.
type Options struct {
	// Initial is "present" or "absent" (the default).
	Initial string `yaml:"initial"`
	// Delay is added to every enable and disable.
	Delay string `yaml:"delay"`
	// FailFirst makes the first N enables/disables fail.
	FailFirst int `yaml:"fail_first"`
	// Hang makes every enable/disable block until its context ends.
	Hang bool `yaml:"hang"`
	// HangObserve makes every observation block until its context ends,
	// as a backend whose program never returns.
	HangObserve bool `yaml:"hang_observe"`
	// Persist keeps the state in a file in the data directory.
	Persist *bool `yaml:"persist"`
}

// Backend is the fake VIP.
type Backend struct {
	spec  vip.Spec
	delay time.Duration
	hang  bool
	// hangObserve is read without the lock: set once by New.
	hangObserve bool
	file        string

	mu       sync.Mutex
	present  bool
	failLeft int
	calls    []string
	onAct    func(action string)
}

// New returns a fake backend for spec.
func New(spec vip.Spec, raw map[string]any) (*Backend, error) {
	var o Options
	if err := vip.DecodeOptions(raw, &o); err != nil {
		return nil, err
	}
	b := &Backend{spec: spec, hang: o.Hang, hangObserve: o.HangObserve, failLeft: o.FailFirst}
	switch o.Initial {
	case "present":
		b.present = true
	case "", "absent":
	default:
		return nil, fmt.Errorf("options.initial: must be present or absent")
	}
	if o.Delay != "" {
		d, err := time.ParseDuration(o.Delay)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("options.delay: %q is not a duration", o.Delay)
		}
		b.delay = d
	}
	if o.FailFirst < 0 {
		return nil, errors.New("options.fail_first: must not be negative")
	}
	if spec.DataDir != "" && (o.Persist == nil || *o.Persist) {
		b.file = filepath.Join(spec.DataDir, "fake-"+spec.Name+".state")
		switch data, err := os.ReadFile(b.file); {
		case err == nil:
			b.present = string(data) == "present"
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("read fake state: %w", err)
		}
	}
	return b, nil
}

// OnAct registers a function called at the start of every enable/disable,
// for benchmarks and tests that time the engine up to the backend call.
func (b *Backend) OnAct(f func(action string)) {
	b.mu.Lock()
	b.onAct = f
	b.mu.Unlock()
}

// Calls returns the enable/disable calls made so far.
func (b *Backend) Calls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.calls...)
}

// Set changes the state directly, as a person fiddling with the host would.
func (b *Backend) Set(present bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.present = present
	return b.save()
}

func (b *Backend) Observe(ctx context.Context) (reactions.VIPState, error) {
	if err := ctx.Err(); err != nil {
		return reactions.VIPState{}, err
	}
	if b.hangObserve {
		<-ctx.Done()
		return reactions.VIPState{}, ctx.Err()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state(), nil
}

func (b *Backend) Enable(ctx context.Context, force bool) error { return b.act(ctx, "enable", true) }

func (b *Backend) Disable(ctx context.Context) error { return b.act(ctx, "disable", false) }

func (b *Backend) act(ctx context.Context, action string, present bool) error {
	b.mu.Lock()
	b.calls = append(b.calls, action)
	onAct := b.onAct
	b.mu.Unlock()
	if onAct != nil {
		onAct(action)
	}
	if b.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	// A caller that gave up before the act changes nothing, as a real
	// backend's program that is never started.
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.delay > 0 {
		t := time.NewTimer(b.delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failLeft > 0 {
		b.failLeft--
		return fmt.Errorf("fake %s of %s failed (fail_first)", action, b.spec.Prefix)
	}
	b.present = present
	return b.save()
}

func (b *Backend) state() reactions.VIPState {
	s := reactions.VIPState{Present: b.present, Detail: fmt.Sprintf("fake: %s absent on %s", b.spec.Prefix, b.spec.Interface)}
	if b.present {
		s.Detail = fmt.Sprintf("fake: %s present on %s", b.spec.Prefix, b.spec.Interface)
	}
	return s
}

// save writes the state file atomically; the caller holds b.mu.
func (b *Backend) save() error {
	if b.file == "" {
		return nil
	}
	v := "absent"
	if b.present {
		v = "present"
	}
	tmp := b.file + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("save fake state: %w", err)
	}
	if _, err := f.WriteString(v); err != nil {
		f.Close()
		return fmt.Errorf("save fake state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("save fake state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save fake state: %w", err)
	}
	return os.Rename(tmp, b.file)
}
