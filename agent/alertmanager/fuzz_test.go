package alertmanager

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/vipagent/vipagent/reactions"
)

// FuzzDecode feeds arbitrary payloads to the Alertmanager decoder and the
// alarm mapping: no panic, every rejection ErrInvalid, and every alarm made
// from an accepted payload either validates or is refused clearly.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"version":"4","alerts":[{"status":"firing","labels":{"condition":"X"},"fingerprint":"f","startsAt":"2026-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"version":"3"}`))
	f.Add([]byte(`{"alerts":null}`))
	o := Options{ConditionLabel: "condition", Resolved: "match"}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := Decode(data)
		if err != nil {
			if !errors.Is(err, reactions.ErrInvalid) {
				t.Fatalf("rejection is not ErrInvalid: %v", err)
			}
			return
		}
		for _, a := range msg.Alerts {
			al := o.Alarm(a)
			if err := al.Validate(); err != nil && !errors.Is(err, reactions.ErrInvalid) {
				t.Fatalf("alarm validation error is not ErrInvalid: %v", err)
			}
			if Key(a) == "" {
				t.Fatalf("empty idempotency key for %+v", a)
			}
		}
	})
}
