// Package nlb is the Windows Network Load Balancing backend (`backend:
// nlb`): the host "holds" the VIP when its NLB host takes traffic for the
// cluster. It drives the local control program, nlb.exe (or wlbs.exe on old
// systems), from the Windows system directory, always with the `local`
// target and never with /PASSW: remote control is unsupported from Windows
// 2008 on, and a remote call hangs when the peer's NIC is unreachable.
//
//	enable:  nlb start <cluster> local
//	         nlb enable <port> <cluster> local
//	disable: nlb drainstop <cluster> local   (disable_mode: drainstop, default)
//	         nlb stop <cluster> local        (disable_mode: stop)
//	observe: nlb query <cluster> local
//
// What the control program says is the only window on NLB's state without
// WMI, and it is awkward: its exit code does not report the outcome (the
// Windows Server 2003 control program ends every processed command with the
// same code), and its messages come from a message table that Windows can
// localise. So the backend ignores exit codes, reads the host-state
// messages of `query` (see parseQuery for the exact phrases) and fails
// clearly, never guessing, when it cannot read them. Every act is followed
// by a query: an act that left the host in the wrong state fails with the
// act's argv and output.
//
// NLB has no duplicate-address guard: two converged hosts split the
// cluster's traffic between them (with "Multiple hosts" filtering and no
// affinity, half the calls reach the standby RM). So an enable succeeds
// only when `query` shows this host converged and no other host in the
// cluster's member list, NLB's own view, which holds also when the other
// host's agent is down. When another host is listed, the backend asks that
// host's agent to stop it (see StopOthersWith) and waits for the cluster to
// drop it; when that cannot be done it stops this host again, so that the
// cluster keeps the one host it had, and fails with "both hosts converged".
//
// Disabling port rules (`nlb disable`) is not offered: it leaves the host
// converged, so `query` could not tell a disabled host from an enabled one
// and the backend could neither stay idempotent nor verify. drainstop stops
// new traffic at once and lets open connections finish.
package nlb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/command"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/hostcmd"
)

// Options are the nlb backend's configuration options.
type Options struct {
	// Program is "nlb" (default: nlb.exe), "wlbs" (wlbs.exe), both from the
	// Windows system directory, or an absolute path.
	Program string `yaml:"program"`
	// Port selects the port rules `enable` turns on: "all" (default) or a
	// port number, whose rule is enabled.
	Port string `yaml:"port"`
	// Cluster is the NLB cluster's IP address or name; default the VIP's
	// address. "all" targets every cluster on this host.
	Cluster string `yaml:"cluster"`
	// DisableMode is "drainstop" (default: no new connections, open ones
	// finish) or "stop" (every connection dropped at once).
	DisableMode string `yaml:"disable_mode"`
}

// pollInterval is how often Verify queries while the host converges or
// drains.
const pollInterval = 250 * time.Millisecond

// undoTimeout bounds stopping this host again after an enable that left two
// converged hosts, also when the step's own deadline has passed.
const undoTimeout = 15 * time.Second

// ErrBothConverged marks an enable that found another host of the cluster
// converged and could not get it stopped.
var ErrBothConverged = errors.New("both hosts converged")

// PeerStopper stops NLB on another host of the cluster through that host's
// agent (the agent wires it: the backend knows no peers). hostID is the NLB
// host priority, which the Genesys procedure makes the RM's member ID. It
// returns nil only when the agent verified that its host no longer takes
// new traffic.
type PeerStopper interface {
	StopHost(ctx context.Context, hostID int) error
}

// Backend moves one VIP with NLB.
type Backend struct {
	spec        vip.Spec
	program     string
	port        string
	cluster     string
	disableVerb string
	peers       PeerStopper

	mu sync.Mutex
	// others and othersAt: the other converged hosts the last enable that
	// failed with ErrBothConverged saw, and when.
	others   []int
	othersAt time.Time
}

// rememberOthers is how long an enable that found other converged hosts
// makes the next ones stop those first: a retry within it cannot split the
// traffic again, and after it a host that went away meanwhile (powered
// off, its agent with it) no longer keeps this one from starting.
const rememberOthers = 2 * time.Minute

func (b *Backend) recentOthers() ([]int, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if time.Since(b.othersAt) > rememberOthers {
		return nil, time.Time{}
	}
	return b.others, b.othersAt
}

func (b *Backend) noteOthers(others []int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.others, b.othersAt = others, time.Now()
}

// StopOthersWith sets how the backend asks other hosts' agents to stop:
// without it, finding another converged host fails the enable at once.
func (b *Backend) StopOthersWith(p PeerStopper) { b.peers = p }

// New returns an nlb backend for spec.
func New(spec vip.Spec, raw map[string]any) (*Backend, error) {
	var o Options
	if err := vip.DecodeOptions(raw, &o); err != nil {
		return nil, err
	}
	if !spec.Prefix.IsValid() {
		return nil, fmt.Errorf("nlb backend: vip %q has no address", spec.Name)
	}
	b := &Backend{spec: spec, port: "all", cluster: spec.Prefix.Addr().String(), disableVerb: "drainstop"}
	switch {
	case o.Program == "" || strings.EqualFold(o.Program, "nlb"):
		p, err := hostcmd.SystemProgram("nlb.exe")
		if err != nil {
			return nil, fmt.Errorf("nlb backend: %w", err)
		}
		b.program = p
	case strings.EqualFold(o.Program, "wlbs"):
		p, err := hostcmd.SystemProgram("wlbs.exe")
		if err != nil {
			return nil, fmt.Errorf("nlb backend: %w", err)
		}
		b.program = p
	case filepath.IsAbs(o.Program):
		b.program = o.Program
	default:
		return nil, fmt.Errorf("options.program: %q is not nlb, wlbs or an absolute path", o.Program)
	}
	if o.Port != "" && !strings.EqualFold(o.Port, "all") {
		if n, err := strconv.Atoi(o.Port); err != nil || n < 0 || n > 65535 || strconv.Itoa(n) != o.Port {
			return nil, fmt.Errorf("options.port: %q is not all or a port number", o.Port)
		}
		b.port = o.Port
	}
	if o.Cluster != "" {
		// A name or address, never something the control program would
		// take for a switch or a host part.
		if strings.ContainsAny(o.Cluster, " :/\\\"\x00\r\n\t") || strings.HasPrefix(o.Cluster, "-") {
			return nil, fmt.Errorf("options.cluster: %q is not a cluster address or name", o.Cluster)
		}
		b.cluster = o.Cluster
	}
	switch o.DisableMode {
	case "", "drainstop":
	case "stop":
		b.disableVerb = "stop"
	case "disable":
		return nil, errors.New("options.disable_mode: disable is not supported (a host with disabled port rules still reports converged, so the move could not be verified); use drainstop or stop")
	default:
		return nil, errors.New("options.disable_mode: must be drainstop or stop")
	}
	return b, nil
}

func (b *Backend) argv(verb string, args ...string) []string {
	argv := append([]string{b.program, verb}, args...)
	return append(argv, b.cluster, "local")
}

// run starts the control program. Its exit code is ignored (see the package
// comment); failing to start it, or the context ending, are errors.
func (b *Backend) run(ctx context.Context, argv []string) (reactions.Exec, error) {
	res, err := command.Run(ctx, argv, command.Options{})
	var ee *reactions.ExecError
	if err != nil && errors.As(err, &ee) && ee.ExitCode >= 0 && ctx.Err() == nil {
		return ee.Exec, nil
	}
	return res, err
}

func (b *Backend) query(ctx context.Context) (view, reactions.Exec, error) {
	res, err := b.run(ctx, b.argv("query"))
	if err != nil {
		return view{}, res, fmt.Errorf("query nlb cluster %s: %w", b.cluster, err)
	}
	v, err := parseQuery(res.Output)
	if err != nil {
		return v, res, fmt.Errorf("query nlb cluster %s: %w", b.cluster, &reactions.ExecError{Exec: res, Err: err})
	}
	return v, res, nil
}

func (b *Backend) vipState(v view) reactions.VIPState {
	st := reactions.VIPState{Present: v.state.handlesTraffic(), Detail: fmt.Sprintf("nlb: cluster %s, this %s", b.cluster, v)}
	if v.state.settled(true) {
		// Only a converged host's list says who takes traffic; a
		// draining or converging host's list is in motion.
		st.Holders = len(v.members)
	}
	return st
}

// Preflight checks, before any failover needs them, that the control
// program exists and that `query` reads this host's state in the cluster:
// a missing NLB feature, a wrong cluster or a display language the backend
// cannot read would otherwise show only when the VIP has to move.
func (b *Backend) Preflight(ctx context.Context) error {
	if _, err := os.Stat(b.program); err != nil {
		return fmt.Errorf("the NLB control program is missing (install the Network Load Balancing feature, e.g. Install-WindowsFeature NLB -IncludeManagementTools): %w", err)
	}
	if _, _, err := b.query(ctx); err != nil {
		return fmt.Errorf("the NLB cluster %s cannot be read on this host (is this host in it? see `%s query %s local`): %w", b.cluster, filepath.Base(b.program), b.cluster, err)
	}
	return nil
}

// Observe reports whether this host takes traffic for the cluster.
func (b *Backend) Observe(ctx context.Context) (reactions.VIPState, error) {
	ctx, cancel := hostcmd.BoundObserve(ctx)
	defer cancel()
	v, _, err := b.query(ctx)
	if err != nil {
		return reactions.VIPState{}, err
	}
	return b.vipState(v), nil
}

// Enable starts cluster operations on this host (a no-op when they run)
// and enables the port rules. A stopped host cannot see the cluster, so
// after an enable found other hosts converged (see bothConverged) the next
// ones within rememberOthers first ask those hosts' agents to stop them,
// and do not start this host when that fails: otherwise every retry
// (reconcile's, every 30 s) would split the traffic for a moment. force
// skips that wait; the check after the start still holds.
func (b *Backend) Enable(ctx context.Context, force bool) error {
	if others, at := b.recentOthers(); len(others) > 0 && !force {
		if err := b.stopOthers(ctx, others); err != nil {
			return fmt.Errorf("%w: host(s) %s of nlb cluster %s were converged %s ago and still cannot be stopped (%w), so this host is not started: it would split the traffic again",
				ErrBothConverged, hostList(others), b.cluster, time.Since(at).Round(time.Second), err)
		}
	}
	if _, err := b.run(ctx, b.argv("start")); err != nil {
		return fmt.Errorf("start nlb on this host: %w", err)
	}
	res, err := b.run(ctx, b.argv("enable", b.port))
	if err != nil {
		return fmt.Errorf("enable nlb port rules: %w", err)
	}
	return b.check(ctx, true, res)
}

// Disable drainstops (or stops) cluster operations on this host.
func (b *Backend) Disable(ctx context.Context) error {
	res, err := b.run(ctx, b.argv(b.disableVerb))
	if err != nil {
		return fmt.Errorf("%s nlb on this host: %w", b.disableVerb, err)
	}
	return b.check(ctx, false, res)
}

// check queries once after an act. A host that went the wrong way (still
// stopped after start, still converged after drainstop) fails with the
// act's argv and output, since its exit code said nothing; a host on its
// way (converging, draining) is left to Verify.
func (b *Backend) check(ctx context.Context, want bool, act reactions.Exec) error {
	v, _, err := b.query(ctx)
	if err != nil {
		return err
	}
	if v.state.handlesTraffic() != want {
		return fmt.Errorf("nlb host is %s after %q: %w", v.state, act.Argv[1:], &reactions.ExecError{Exec: act, Err: errors.New("the command did not take effect")})
	}
	return nil
}

// Verify queries every 250 ms, bounded by ctx, until this host has
// converged alone (want) or no longer takes new traffic (!want). Another
// host in the converged list is asked, once, to stop through its agent;
// the cluster's list, not the agent's word, decides when it has.
func (b *Backend) Verify(ctx context.Context, want bool) (reactions.VIPState, error) {
	var (
		last    view
		stopErr error
		asked   bool
	)
	err := hostcmd.Poll(ctx, pollInterval, func() (bool, error) {
		v, _, err := b.query(ctx)
		if err != nil {
			return false, err
		}
		last = v
		if !v.state.settled(want) {
			return false, nil
		}
		others := v.others()
		if !want || len(others) == 0 {
			return true, nil
		}
		if !asked {
			asked = true
			stopErr = b.stopOthers(ctx, others)
		}
		return false, stopErr
	})
	if err == nil {
		if want {
			b.noteOthers(nil)
		}
		return b.vipState(last), nil
	}
	if want && last.state.settled(true) && len(last.others()) > 0 {
		b.noteOthers(last.others())
		return b.bothConverged(ctx, last, err)
	}
	return b.vipState(last), fmt.Errorf("verify nlb cluster %s (last seen: %s): %w", b.cluster, last, err)
}

// stopOthers asks each other converged host's agent to stop it.
func (b *Backend) stopOthers(ctx context.Context, hosts []int) error {
	if b.peers == nil {
		return errors.New("no agent to stop it through")
	}
	var errs []error
	for _, h := range hosts {
		if err := b.peers.StopHost(ctx, h); err != nil {
			errs = append(errs, fmt.Errorf("stopping host %d through its agent: %w", h, err))
		}
	}
	return errors.Join(errs...)
}

// bothConverged stops this host again, so that the cluster keeps the host
// it had instead of splitting traffic between two, and fails the enable.
func (b *Backend) bothConverged(ctx context.Context, last view, cause error) (reactions.VIPState, error) {
	err := fmt.Errorf("%w in nlb cluster %s: this %s; %w", ErrBothConverged, b.cluster, last, cause)
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	res, uerr := b.run(uctx, b.argv(b.disableVerb))
	if uerr == nil {
		uerr = b.check(uctx, false, res)
	}
	if uerr != nil {
		return b.vipState(last), fmt.Errorf("%w; stopping this host again failed too, so both take traffic: %w", err, uerr)
	}
	st := b.vipState(last)
	if after, _, qerr := b.query(uctx); qerr == nil {
		st = b.vipState(after)
	}
	return st, fmt.Errorf("%w; this host was stopped again (%s) so that host(s) %s keep the cluster", err, b.disableVerb, hostList(last.others()))
}
