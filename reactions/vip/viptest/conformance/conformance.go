// Package conformance is the VIP backends' common test table: each case is
// a starting state of the system, an action on the backend (as the engine
// calls it) and the expected result, observation and system state, the
// last read without the backend (`ip addr` in a lab namespace, the fake's
// state file, the Windows host model). Every backend's package runs the
// same table through a Harness of its own; a backend that cannot show a
// state skips the case with its reason, and one that answers differently
// declares the difference, with its reason, in its Differences, where it
// is checked as strictly as the table and printed with the test.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/vip"
)

// State is how a case finds the system.
type State int

const (
	// Absent: the VIP is on no host of the segment.
	Absent State = iota
	// Present: the VIP is on this host's interface at its configured
	// prefix length.
	Present
	// OtherPrefix: the VIP is on this host's interface as a host route
	// (/32, /128), as a person adds it by hand.
	OtherPrefix
	// InterfaceDown: this host's interface is administratively down and
	// the VIP absent.
	InterfaceDown
	// Elsewhere: another host on the segment holds the VIP.
	Elsewhere
)

func (s State) String() string {
	return [...]string{"absent", "present", "other-prefix", "interface-down", "elsewhere"}[s]
}

// Op is one call on the backend.
type Op int

const (
	// Observe calls Observe.
	Observe Op = iota
	// Enable calls Enable(ctx, false) and then, when it succeeded, Verify
	// (ctx, true) if the backend has it: the engine's act and verify.
	Enable
	// EnableForce is Enable with force set.
	EnableForce
	// Disable calls Disable and then Verify(ctx, false) if the backend has
	// it.
	Disable
)

func (o Op) String() string { return [...]string{"observe", "enable", "enable-force", "disable"}[o] }

// Ctx is the context a call gets.
type Ctx int

const (
	// Live is a context with LiveTimeout left.
	Live Ctx = iota
	// Cancelled is a context cancelled before the call.
	Cancelled
	// Expired is a context whose deadline passed before the call.
	Expired
)

// LiveTimeout bounds every live call and every look after the action;
// generous because Wine starts programs slowly on a loaded machine.
const LiveTimeout = time.Minute

// Call is one step of an action.
type Call struct {
	Op  Op
	Ctx Ctx
}

// Held names an address of the VIP on this host's interface.
type Held int

const (
	// Configured is the VIP at its configured prefix length.
	Configured Held = iota
	// HandMade is the VIP as a host route, what OtherPrefix puts there.
	HandMade
)

// Prefix is what h means for the VIP p.
func (h Held) Prefix(p netip.Prefix) netip.Prefix {
	if h == HandMade {
		return netip.PrefixFrom(p.Addr(), p.Addr().BitLen())
	}
	return p
}

// ErrAny stands in Want.Err for "fails, with any error".
var ErrAny = errors.New("any error")

// Want is the expected end of a case.
type Want struct {
	// Err is what the last call returns: nil for success, ErrAny for some
	// error, otherwise an error it wraps. Every earlier call must succeed.
	Err error
	// Present is what Observe reports after the action.
	Present bool
	// Here are the VIP's addresses on this host's interface afterwards.
	Here []Held
	// Elsewhere is whether another host still holds the VIP afterwards.
	Elsewhere bool
}

// Case is one row of the table.
type Case struct {
	Name  string
	State State
	Calls []Call
	Want  Want
}

func calls(ops ...Op) []Call {
	cs := make([]Call, len(ops))
	for i, op := range ops {
		cs[i] = Call{Op: op}
	}
	return cs
}

var (
	none       []Held
	configured = []Held{Configured}
)

// Cases is the table. Names are state/action, stable: Differences use them.
var Cases = []Case{
	// What Observe reports of each state.
	{"absent/observe", Absent, calls(Observe), Want{Present: false, Here: none}},
	{"present/observe", Present, calls(Observe), Want{Present: true, Here: configured}},
	{"other-prefix/observe", OtherPrefix, calls(Observe), Want{Present: true, Here: []Held{HandMade}}},
	{"interface-down/observe", InterfaceDown, calls(Observe), Want{Present: false, Here: none}},
	{"elsewhere/observe", Elsewhere, calls(Observe), Want{Present: false, Here: none, Elsewhere: true}},

	// Enable, and enabling what is already there: success, nothing else.
	{"absent/enable", Absent, calls(Enable), Want{Present: true, Here: configured}},
	{"absent/enable-force", Absent, calls(EnableForce), Want{Present: true, Here: configured}},
	{"present/enable", Present, calls(Enable), Want{Present: true, Here: configured}},
	{"absent/enable-twice", Absent, calls(Enable, Enable), Want{Present: true, Here: configured}},
	{"other-prefix/enable", OtherPrefix, calls(Enable), Want{Present: true, Here: []Held{Configured, HandMade}}},
	// A down interface cannot carry the probe: the enable fails before it
	// adds anything. Forced, it adds the address, fails to announce it and
	// removes it again: a failed enable leaves nothing held, so a retry
	// never finds it present and calls it unchanged.
	{"interface-down/enable", InterfaceDown, calls(Enable), Want{Err: ErrAny, Present: false, Here: none}},
	{"interface-down/enable-force", InterfaceDown, calls(EnableForce), Want{Err: ErrAny, Present: false, Here: none}},
	// Another host answers: refused, unless forced.
	{"elsewhere/enable", Elsewhere, calls(Enable), Want{Err: reactions.ErrDuplicateAddress, Present: false, Here: none, Elsewhere: true}},
	{"elsewhere/enable-force", Elsewhere, calls(EnableForce), Want{Present: true, Here: configured, Elsewhere: true}},

	// Disable, whatever prefix the VIP has; removing is always allowed and
	// never touches another host.
	{"present/disable", Present, calls(Disable), Want{Present: false, Here: none}},
	{"absent/disable", Absent, calls(Disable), Want{Present: false, Here: none}},
	{"present/disable-twice", Present, calls(Disable, Disable), Want{Present: false, Here: none}},
	{"other-prefix/disable", OtherPrefix, calls(Disable), Want{Present: false, Here: none}},
	{"interface-down/disable", InterfaceDown, calls(Disable), Want{Present: false, Here: none}},
	{"elsewhere/disable", Elsewhere, calls(Disable), Want{Present: false, Here: none, Elsewhere: true}},

	// In and out and in again.
	{"absent/enable-disable-enable", Absent, calls(Enable, Disable, Enable), Want{Present: true, Here: configured}},
	{"present/disable-enable-disable", Present, calls(Disable, Enable, Disable), Want{Present: false, Here: none}},

	// A caller that gave up: nothing is done, and the error says why.
	{"present/observe-cancelled", Present, []Call{{Observe, Cancelled}}, Want{Err: context.Canceled, Present: true, Here: configured}},
	{"absent/enable-cancelled", Absent, []Call{{Enable, Cancelled}}, Want{Err: context.Canceled, Present: false, Here: none}},
	{"present/disable-cancelled", Present, []Call{{Disable, Cancelled}}, Want{Err: context.Canceled, Present: true, Here: configured}},
	{"absent/enable-expired", Absent, []Call{{Enable, Expired}}, Want{Err: context.DeadlineExceeded, Present: false, Here: none}},
	{"present/disable-expired", Present, []Call{{Disable, Expired}}, Want{Err: context.DeadlineExceeded, Present: true, Here: configured}},
	{"present/observe-expired", Present, []Call{{Observe, Expired}}, Want{Err: context.DeadlineExceeded, Present: true, Here: configured}},
}

// System is the VIP as the system shows it, read without the backend.
type System struct {
	// Here are the VIP's addresses (address/length) on this host's
	// interface; a backend without prefix lengths (NLB) reports the
	// configured prefix while this host takes traffic.
	Here []netip.Prefix
	// Elsewhere is whether another host on the segment holds the VIP.
	Elsewhere bool
}

// Harness runs the table against one backend.
type Harness interface {
	// Spec is the VIP every case's backend is made for.
	Spec() vip.Spec
	// Setup brings the system into state s, undoing whatever the previous
	// case left, and returns "". When this system cannot show s it
	// returns why, and the case is skipped with that reason.
	Setup(t *testing.T, s State) (unsupported string)
	// New makes the case's backend, afresh, after Setup; it is released
	// with t.Cleanup.
	New(t *testing.T) engine.Backend
	// System reads the system's state without the backend.
	System(t *testing.T) System
}

// Differences are where one backend departs from the table, by case name.
type Differences struct {
	// Skip: cases this backend cannot run, and why.
	Skip map[string]string
	// Deviate: cases this backend answers differently, what it answers
	// instead and why.
	Deviate map[string]Deviation
}

// Deviation is a backend's own expected end of a case.
type Deviation struct {
	Want Want
	Why  string
}

// Run runs every case of the table against h, one after the other (a
// harness may share one lab between them), as subtests named like the
// cases.
func Run(t *testing.T, h Harness, d Differences) {
	t.Helper()
	names := map[string]bool{}
	for _, c := range Cases {
		names[c.Name] = true
	}
	for name := range d.Skip {
		if !names[name] {
			t.Errorf("Differences.Skip names %q, which is no case", name)
		}
	}
	for name, dev := range d.Deviate {
		if !names[name] {
			t.Errorf("Differences.Deviate names %q, which is no case", name)
		}
		if dev.Why == "" {
			t.Errorf("Differences.Deviate[%q] says no why", name)
		}
	}
	for _, c := range Cases {
		t.Run(c.Name, func(t *testing.T) {
			if why, ok := d.Skip[c.Name]; ok {
				t.Skipf("this backend cannot run %s: %s", c.Name, why)
			}
			want := c.Want
			if dev, ok := d.Deviate[c.Name]; ok {
				want = dev.Want
				t.Logf("this backend differs from the table here: %s", dev.Why)
			}
			if why := h.Setup(t, c.State); why != "" {
				t.Skipf("this system cannot show the state %s: %s", c.State, why)
			}
			runCase(t, h, c, want)
		})
	}
}

func runCase(t *testing.T, h Harness, c Case, want Want) {
	spec := h.Spec()
	if sys := h.System(t); !slices.Equal(sys.Here, expected(spec.Prefix, startHeld(c.State))) || sys.Elsewhere != (c.State == Elsewhere) {
		t.Fatalf("the harness did not set up %s: the system shows %+v", c.State, sys)
	}
	b := h.New(t)
	var err error
	for i, call := range c.Calls {
		err = do(b, call)
		if i < len(c.Calls)-1 && err != nil {
			t.Fatalf("call %d (%s) of %d: %v", i+1, call.Op, len(c.Calls), err)
		}
	}
	last := c.Calls[len(c.Calls)-1]
	switch {
	case want.Err == nil && err != nil:
		t.Errorf("%s: %v, want success", last.Op, err)
	case want.Err != nil && err == nil:
		t.Errorf("%s succeeded, want an error (%v)", last.Op, want.Err)
	case want.Err != nil && want.Err != ErrAny && !errors.Is(err, want.Err):
		t.Errorf("%s: %v, want an error wrapping %q", last.Op, err, want.Err)
	case err != nil:
		t.Logf("%s: %v (as wanted)", last.Op, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), LiveTimeout)
	defer cancel()
	st, oerr := b.Observe(ctx)
	switch {
	case oerr != nil:
		t.Errorf("Observe after %s: %v", c.Name, oerr)
	case st.Present != want.Present:
		t.Errorf("Observe after %s: present = %v, want %v (%s)", c.Name, st.Present, want.Present, st.Detail)
	case st.Detail == "":
		t.Errorf("Observe after %s: no detail for people", c.Name)
	}

	got := h.System(t)
	wantSys := System{Here: expected(spec.Prefix, want.Here), Elsewhere: want.Elsewhere}
	if diff := cmp.Diff(wantSys, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("system after %s (-want +got):\n%s", c.Name, diff)
	}
}

// startHeld is what each state puts on this host's interface.
func startHeld(s State) []Held {
	switch s {
	case Present:
		return configured
	case OtherPrefix:
		return []Held{HandMade}
	}
	return none
}

func expected(p netip.Prefix, hs []Held) []netip.Prefix {
	var out []netip.Prefix
	for _, h := range hs {
		out = append(out, h.Prefix(p))
	}
	return sorted(out)
}

// sorted sorts prefixes for System.Here.
func sorted(ps []netip.Prefix) []netip.Prefix {
	sort.Slice(ps, func(i, j int) bool { return ps[i].String() < ps[j].String() })
	return ps
}

// do makes one call as the engine would: act, then verify with the
// backend's Verify when it has one.
func do(b engine.Backend, c Call) error {
	var ctx context.Context
	var cancel context.CancelFunc
	switch c.Ctx {
	case Live:
		ctx, cancel = context.WithTimeout(context.Background(), LiveTimeout)
	case Cancelled:
		ctx, cancel = context.WithCancel(context.Background())
		cancel()
	case Expired:
		ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	}
	defer cancel()
	var err error
	want := true
	switch c.Op {
	case Observe:
		var st reactions.VIPState
		st, err = b.Observe(ctx)
		if err == nil && st.Detail == "" {
			err = errors.New("observe gave no detail for people")
		}
		return err
	case Enable, EnableForce:
		err = b.Enable(ctx, c.Op == EnableForce)
	case Disable:
		want = false
		err = b.Disable(ctx)
	}
	if err != nil {
		return err
	}
	if v, ok := b.(engine.Verifier); ok {
		if _, err := v.Verify(ctx, want); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	return nil
}
