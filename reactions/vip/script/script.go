// Package script is the script backend (`backend: script`): it runs
// existing scripts, such as Genesys' IPTakeOver.bat or a site's own .sh,
// with configured argument lists, so that a site can adopt vipagent without
// rewriting what already moves its VIP.
//
// Arguments are whole argv elements with ${name} placeholders (${vip},
// ${address}, ${prefix_len}, ${mask}, ${interface}, ${name}, ${member_id});
// no shell sees them. On Windows a .bat or .cmd file cannot be executed directly, so it is
// run as %SystemRoot%\System32\cmd.exe /d /s /c "script" args: the one
// place vipagent uses a command interpreter. Its arguments are checked when
// the backend is built, with the command package's one set of cmd.exe
// metacharacters (command.CheckBatchArgv), and again when they run. On
// other systems the file is run directly.
package script

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/command"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/hostcmd"
)

// Options are the script backend's configuration options.
type Options struct {
	// Enable and Disable are the argv run to bring the VIP up and down;
	// exit code 0 is success. The program must be an absolute path or a
	// path relative to Dir: PATH is never searched.
	Enable  []string `yaml:"enable"`
	Disable []string `yaml:"disable"`
	// Observe, when set, is run to learn the state: an exit code in
	// ObservePresent means present, one in ObserveAbsent absent, anything
	// else is an error. Its output goes into the state's detail. Without it
	// the backend looks whether the VIP's address is on the VIP's interface
	// (on any interface when the VIP names none).
	Observe []string `yaml:"observe"`
	// ObservePresent and ObserveAbsent are the observe script's exit codes
	// for present (default [0]) and absent (default [1]). Genesys'
	// Check_Ip.vbs is the reverse: 1 = found, 0 = not found.
	ObservePresent []int `yaml:"observe_present"`
	ObserveAbsent  []int `yaml:"observe_absent"`
	// Dir is the working directory of the scripts (absolute).
	Dir string `yaml:"dir"`
}

// maxDetail bounds how much of an observe script's output goes into the
// state's detail; the journal keeps every step's before and after.
const maxDetail = 1024

// Backend runs scripts to move one VIP.
type Backend struct {
	spec                     vip.Spec
	dir                      string
	enable, disable, observe []string
	present, absent          []int
}

// New returns a script backend for spec.
func New(spec vip.Spec, raw map[string]any) (*Backend, error) {
	var o Options
	if err := vip.DecodeOptions(raw, &o); err != nil {
		return nil, err
	}
	if !spec.Prefix.IsValid() {
		return nil, fmt.Errorf("script backend: vip %q has no address", spec.Name)
	}
	if o.Dir != "" && !filepath.IsAbs(o.Dir) {
		return nil, fmt.Errorf("options.dir: %q is not an absolute path", o.Dir)
	}
	b := &Backend{spec: spec, dir: o.Dir, present: []int{0}, absent: []int{1}}
	if err := b.exitCodes(o); err != nil {
		return nil, err
	}
	values := map[string]string{
		"vip":        spec.Prefix.Addr().String(),
		"address":    spec.Prefix.String(),
		"prefix_len": strconv.Itoa(spec.Prefix.Bits()),
		"mask":       "",
		"interface":  spec.Interface,
		"name":       spec.Name,
	}
	if spec.MemberID > 0 {
		values["member_id"] = strconv.Itoa(spec.MemberID)
	}
	if spec.Prefix.Addr().Is4() {
		values["mask"] = net.IP(net.CIDRMask(spec.Prefix.Bits(), 32)).String()
	}
	var err error
	for _, f := range []struct {
		key      string
		tmpl     []string
		dst      *[]string
		required bool
	}{
		{"enable", o.Enable, &b.enable, true},
		{"disable", o.Disable, &b.disable, true},
		{"observe", o.Observe, &b.observe, false},
	} {
		if len(f.tmpl) == 0 {
			if f.required {
				return nil, fmt.Errorf("options.%s: required (the argv to run)", f.key)
			}
			continue
		}
		if spec.MemberID <= 0 && slices.ContainsFunc(f.tmpl, func(a string) bool { return strings.Contains(a, "${member_id}") }) {
			return nil, fmt.Errorf("options.%s: ${member_id}: this node has no member_id (set nodes.<this node>.member_id to the RM's mymemberid)", f.key)
		}
		if *f.dst, err = b.resolve(f.tmpl, values); err != nil {
			return nil, fmt.Errorf("options.%s: %w", f.key, err)
		}
	}
	return b, nil
}

// exitCodes takes the observe script's exit codes for present and absent:
// each list non-empty when set, and no code in both.
func (b *Backend) exitCodes(o Options) error {
	if (o.ObservePresent != nil || o.ObserveAbsent != nil) && len(o.Observe) == 0 {
		return errors.New("options.observe_present, options.observe_absent: only with options.observe")
	}
	for _, l := range []struct {
		key   string
		codes []int
		dst   *[]int
	}{{"observe_present", o.ObservePresent, &b.present}, {"observe_absent", o.ObserveAbsent, &b.absent}} {
		switch {
		case l.codes == nil:
		case len(l.codes) == 0:
			return fmt.Errorf("options.%s: empty; list the exit codes, e.g. [1]", l.key)
		default:
			*l.dst = l.codes
		}
	}
	for _, c := range b.present {
		if slices.Contains(b.absent, c) {
			return fmt.Errorf("options.observe_present, options.observe_absent: exit code %d means both present and absent", c)
		}
	}
	return nil
}

// resolve expands the placeholders, anchors the program and turns the
// argv into what the OS can start (see launchArgv).
func (b *Backend) resolve(tmpl []string, values map[string]string) ([]string, error) {
	argv, err := hostcmd.Expand(tmpl, values)
	if err != nil {
		return nil, err
	}
	switch {
	case argv[0] == "":
		return nil, errors.New("empty program")
	case filepath.IsAbs(argv[0]):
	case b.dir != "":
		argv[0] = filepath.Join(b.dir, argv[0])
	default:
		return nil, fmt.Errorf("program %q must be an absolute path, or relative to options.dir", argv[0])
	}
	return launchArgv(argv)
}

func (b *Backend) run(ctx context.Context, argv []string) (reactions.Exec, error) {
	return command.Run(ctx, argv, command.Options{Dir: b.dir})
}

// Observe runs the observe script, or looks at the interface when none is
// configured.
func (b *Backend) Observe(ctx context.Context) (reactions.VIPState, error) {
	ctx, cancel := hostcmd.BoundObserve(ctx)
	defer cancel()
	if len(b.observe) == 0 {
		return b.observeAddress(ctx)
	}
	res, err := b.run(ctx, b.observe)
	var ee *reactions.ExecError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode >= 0 && ctx.Err() == nil:
		res = ee.Exec
	default:
		return reactions.VIPState{}, fmt.Errorf("observe %s: %w", b.spec.Prefix, err)
	}
	switch {
	case slices.Contains(b.present, res.ExitCode):
		return reactions.VIPState{Present: true, Detail: detail(res)}, nil
	case slices.Contains(b.absent, res.ExitCode):
		return reactions.VIPState{Present: false, Detail: detail(res)}, nil
	}
	return reactions.VIPState{}, fmt.Errorf("observe %s (exit %s means present, %s absent): %w", b.spec.Prefix, codes(b.present), codes(b.absent),
		&reactions.ExecError{Exec: res, Err: fmt.Errorf("exit code %d means neither", res.ExitCode)})
}

func codes(cs []int) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, " or ")
}

func detail(e reactions.Exec) string {
	out := strings.TrimSpace(e.Output)
	if len(out) > maxDetail {
		out = out[:maxDetail] + "..."
	}
	prog := e.Argv[0]
	if len(e.Argv) > 4 && strings.EqualFold(filepath.Base(prog), "cmd.exe") {
		prog = e.Argv[4] // the batch file, not its interpreter
	}
	return fmt.Sprintf("script: %s exited %d: %s", filepath.Base(prog), e.ExitCode, out)
}

// observeAddress looks for the VIP's address on its interface, or on any
// interface when the VIP names none.
func (b *Backend) observeAddress(ctx context.Context) (reactions.VIPState, error) {
	if err := ctx.Err(); err != nil {
		return reactions.VIPState{}, err
	}
	var addrs []net.Addr
	var err error
	where := "any interface"
	if b.spec.Interface != "" {
		where = strconv.Quote(b.spec.Interface)
		var ifi *net.Interface
		if ifi, err = net.InterfaceByName(b.spec.Interface); err == nil {
			addrs, err = ifi.Addrs()
		}
	} else {
		addrs, err = net.InterfaceAddrs()
	}
	if err != nil {
		return reactions.VIPState{}, fmt.Errorf("observe %s on %s: %w", b.spec.Prefix, where, err)
	}
	want := b.spec.Prefix.Addr().Unmap()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap() == want {
				return reactions.VIPState{Present: true, Detail: fmt.Sprintf("script: %s present on %s", want, where)}, nil
			}
		}
	}
	return reactions.VIPState{Present: false, Detail: fmt.Sprintf("script: %s absent on %s", want, where)}, nil
}

// Enable runs the enable script. force is not passed on: the script decides
// for itself whether another host holds the address.
func (b *Backend) Enable(ctx context.Context, force bool) error {
	if _, err := b.run(ctx, b.enable); err != nil {
		return fmt.Errorf("enable script for %s: %w", b.spec.Prefix, err)
	}
	return nil
}

// Disable runs the disable script.
func (b *Backend) Disable(ctx context.Context) error {
	if _, err := b.run(ctx, b.disable); err != nil {
		return fmt.Errorf("disable script for %s: %w", b.spec.Prefix, err)
	}
	return nil
}
