package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// RunSequences drives h through runs seeded random sequences of steps
// calls each (Enable, EnableForce, Disable, Observe on live contexts) from
// a start of Absent or Present, the states every harness shows. After
// every call it checks the promise the table checks case by case: the call
// succeeds, an enable leaves the VIP held here at its configured prefix
// and a disable leaves it nowhere here, and Observe agrees with the system
// read without the backend. One backend serves a whole sequence, so state
// a backend keeps between calls (announcements, remembered hosts) is
// exercised too. A failure names the seed and the calls so far.
func RunSequences(t *testing.T, h Harness, seed uint64, runs, steps int) {
	t.Helper()
	for run := range runs {
		t.Run(fmt.Sprintf("seed-%d-run-%d", seed, run), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, uint64(run)))
			start := []State{Absent, Present}[r.IntN(2)]
			if why := h.Setup(t, start); why != "" {
				t.Fatalf("the system cannot show %s: %s", start, why)
			}
			spec := h.Spec()
			b := h.New(t)
			present := start == Present
			done := []string{start.String()}
			for range steps {
				op := []Op{Observe, Enable, EnableForce, Disable}[r.IntN(4)]
				done = append(done, op.String())
				if err := do(b, Call{Op: op}); err != nil {
					t.Fatalf("%s: %v", strings.Join(done, " → "), err)
				}
				switch op {
				case Enable, EnableForce:
					present = true
				case Disable:
					present = false
				}
				want := none
				if present {
					want = configured
				}
				ctx, cancel := context.WithTimeout(context.Background(), LiveTimeout)
				st, err := b.Observe(ctx)
				cancel()
				if err != nil || st.Present != present {
					t.Fatalf("%s: Observe = %+v, %v; want present=%v", strings.Join(done, " → "), st, err, present)
				}
				if sys := h.System(t); !slices.Equal(sys.Here, expected(spec.Prefix, want)) || sys.Elsewhere {
					t.Fatalf("%s: the system shows %+v; want the VIP here = %v and nowhere else", strings.Join(done, " → "), sys, present)
				}
			}
		})
	}
}
