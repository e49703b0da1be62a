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
// Disabling port rules (`nlb disable`) is not offered: it leaves the host
// converged, so `query` could not tell a disabled host from an enabled one
// and the backend could neither stay idempotent nor verify. drainstop stops
// new traffic at once and lets open connections finish.
package nlb

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
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

// Backend moves one VIP with NLB.
type Backend struct {
	spec        vip.Spec
	program     string
	port        string
	cluster     string
	disableVerb string
}

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

func (b *Backend) query(ctx context.Context) (hostState, reactions.Exec, error) {
	res, err := b.run(ctx, b.argv("query"))
	if err != nil {
		return stateUnknown, res, fmt.Errorf("query nlb cluster %s: %w", b.cluster, err)
	}
	st, err := parseQuery(res.Output)
	if err != nil {
		return st, res, fmt.Errorf("query nlb cluster %s: %w", b.cluster, &reactions.ExecError{Exec: res, Err: err})
	}
	return st, res, nil
}

func (b *Backend) vipState(st hostState) reactions.VIPState {
	return reactions.VIPState{
		Present: st.handlesTraffic(),
		Detail:  fmt.Sprintf("nlb: cluster %s, this host %s", b.cluster, st),
	}
}

// Observe reports whether this host takes traffic for the cluster.
func (b *Backend) Observe(ctx context.Context) (reactions.VIPState, error) {
	ctx, cancel := hostcmd.BoundObserve(ctx)
	defer cancel()
	st, _, err := b.query(ctx)
	if err != nil {
		return reactions.VIPState{}, err
	}
	return b.vipState(st), nil
}

// Enable starts cluster operations on this host (a no-op when they run)
// and enables the port rules. force changes nothing: NLB hosts share the
// cluster address by design, there is no duplicate to probe for.
func (b *Backend) Enable(ctx context.Context, force bool) error {
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
	st, _, err := b.query(ctx)
	if err != nil {
		return err
	}
	if st.handlesTraffic() != want {
		return fmt.Errorf("nlb host is %s after %q: %w", st, act.Argv[1:], &reactions.ExecError{Exec: act, Err: errors.New("the command did not take effect")})
	}
	return nil
}

// Verify queries every 250 ms, bounded by ctx, until this host has
// converged (want) or no longer takes new traffic (!want).
func (b *Backend) Verify(ctx context.Context, want bool) (reactions.VIPState, error) {
	last := stateUnknown
	err := hostcmd.Poll(ctx, pollInterval, func() (bool, error) {
		st, _, err := b.query(ctx)
		if err != nil {
			return false, err
		}
		last = st
		return st.settled(want), nil
	})
	if err != nil {
		return b.vipState(last), fmt.Errorf("verify nlb cluster %s (host last seen %s): %w", b.cluster, last, err)
	}
	return b.vipState(last), nil
}
