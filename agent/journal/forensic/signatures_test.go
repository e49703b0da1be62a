package forensic

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/journal"
)

// A recovery keeps the anti-replay memory: a signed request captured before
// the damage is still refused after it, within its skew window. Where the
// memory may be incomplete (the root page, which holds small buckets
// inline, is damaged), requests signed before the recovery are refused.
func TestRecoveryKeepsTheAntiReplayMemory(t *testing.T) {
	sig := "sha256=" + strings.Repeat("ab", 32)
	until := fixtureNow.Add(5 * time.Minute)
	tests := []struct {
		name   string
		damage func(t *testing.T, path string, l layout)
		floor  bool
	}{
		{name: "events leaf page overwritten", damage: func(t *testing.T, path string, l layout) {
			overwrite(t, path, int64(l.leaves["events"][2])*int64(l.pageSize), l.pageSize, 11)
		}},
		{name: "root page overwritten", floor: true, damage: func(t *testing.T, path string, l layout) {
			overwrite(t, path, int64(l.root)*int64(l.pageSize), l.pageSize, 12)
		}},
		{name: "truncated", floor: true, damage: func(t *testing.T, path string, l layout) {
			truncate(t, path, int64(l.hwm-3)*int64(l.pageSize))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := writeFixture(t, t.TempDir(), 40)
			j := open(t, f.path, journal.Options{Now: fixtureClock})
			if fresh, err := j.RememberSignature(sig, fixtureNow, until); err != nil || !fresh {
				t.Fatalf("RememberSignature: %v, %v", fresh, err)
			}
			j.Close()
			tt.damage(t, f.path, pageLayout(t, f.path))

			recovered := fixtureNow.Add(time.Minute)
			j, rec, err := OpenOrRecover(f.path, journal.Options{Now: func() time.Time { return recovered }})
			if err != nil || rec == nil {
				t.Fatalf("OpenOrRecover: %v, %v", rec, err)
			}
			defer j.Close()
			fresh, err := j.RememberSignature(sig, fixtureNow, until)
			if fresh {
				t.Errorf("a signature used before the recovery was accepted again (replay); stats %+v", rec.Stats)
			}
			if floorErr := errors.Is(err, journal.ErrSignedBeforeRecovery); floorErr != tt.floor || (err != nil && !floorErr) {
				t.Errorf("replay refused with %v; want the floor error: %v", err, tt.floor)
			}
			if (rec.Stats.SignatureFloor != nil) != tt.floor {
				t.Errorf("SignatureFloor = %v, want set: %v", rec.Stats.SignatureFloor, tt.floor)
			}
			// A request signed after the recovery is accepted.
			after := recovered.Add(time.Second)
			if fresh, err := j.RememberSignature("sha256=new", after, after.Add(5*time.Minute)); err != nil || !fresh {
				t.Errorf("a new signature after the recovery: %v, %v", fresh, err)
			}
			j.Close()
			if _, err := Check(f.path); err != nil {
				t.Errorf("recovered journal: %v", err)
			}
		})
	}
}
