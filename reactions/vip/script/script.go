// Package script is the script backend (`backend: script`): it runs
// existing scripts, such as Genesys' IPTakeOver.bat or a site's own .sh,
// with configured argument lists, so that a site can adopt vipagent without
// rewriting what already moves its VIP.
//
// Arguments are whole argv elements with ${name} placeholders (${vip},
// ${address}, ${prefix_len}, ${mask}, ${interface}, ${name}); no shell sees
// them. On Windows a .bat or .cmd file cannot be executed directly, so it is
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
	// Observe, when set, is run to learn the state: exit 0 means present,
	// exit 1 absent, anything else is an error. Its output goes into the
	// state's detail. Without it the backend looks whether the VIP's
	// address is on the VIP's interface (on any interface when the VIP
	// names none).
	Observe []string `yaml:"observe"`
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
	b := &Backend{spec: spec, dir: o.Dir}
	values := map[string]string{
		"vip":        spec.Prefix.Addr().String(),
		"address":    spec.Prefix.String(),
		"prefix_len": strconv.Itoa(spec.Prefix.Bits()),
		"mask":       "",
		"interface":  spec.Interface,
		"name":       spec.Name,
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
		if *f.dst, err = b.resolve(f.tmpl, values); err != nil {
			return nil, fmt.Errorf("options.%s: %w", f.key, err)
		}
	}
	return b, nil
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
		return reactions.VIPState{Present: true, Detail: detail(res)}, nil
	case errors.As(err, &ee) && ee.ExitCode == 1 && ctx.Err() == nil:
		return reactions.VIPState{Present: false, Detail: detail(ee.Exec)}, nil
	}
	return reactions.VIPState{}, fmt.Errorf("observe %s (exit 0 means present, 1 absent): %w", b.spec.Prefix, err)
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
