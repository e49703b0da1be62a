package fake

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/viptest/conformance"
)

// harness runs the table on the fake in-process. Its system is the state
// file the fake keeps in its data directory, as a demo's second process
// (`vipagent fire --direct`) reads it.
type harness struct {
	dir string
}

func (h *harness) Spec() vip.Spec {
	return vip.Spec{Name: "rm", Prefix: netip.MustParsePrefix("192.0.2.100/24"), Interface: "vip0", DataDir: h.dir}
}

func (h *harness) file() string { return filepath.Join(h.dir, "fake-rm.state") }

func (h *harness) Setup(t *testing.T, s conformance.State) string {
	h.dir = t.TempDir()
	switch s {
	case conformance.Absent:
		return ""
	case conformance.Present:
		if err := os.WriteFile(h.file(), []byte("present"), 0o644); err != nil {
			t.Fatal(err)
		}
		return ""
	}
	return "the fake knows only present and absent: no prefix lengths, interfaces or other hosts"
}

func (h *harness) New(t *testing.T) engine.Backend {
	b, err := New(h.Spec(), nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

func (h *harness) System(t *testing.T) conformance.System {
	data, err := os.ReadFile(h.file())
	switch {
	case errors.Is(err, os.ErrNotExist):
		return conformance.System{}
	case err != nil:
		t.Fatal(err)
	}
	switch string(data) {
	case "present":
		return conformance.System{Here: []netip.Prefix{h.Spec().Prefix}}
	case "absent":
		return conformance.System{}
	}
	t.Fatalf("fake state file %s holds %q", h.file(), data)
	return conformance.System{}
}

// TestConformance runs the backends' common table on the fake.
func TestConformance(t *testing.T) {
	conformance.Run(t, &harness{}, conformance.Differences{})
	conformance.RunSequences(t, &harness{}, 1, 20, 20)
}
