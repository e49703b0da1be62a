// Package ipcmd is the Linux command VIP backend (`backend: ip`), for hosts
// where people want to see the commands: `ip -o addr show`, `ip addr add`
// and `ip addr del` move the address, iputils' `arping -D` probes for
// another owner before enabling and `arping -U` announces the move. Every
// program runs through command.Run: argv only, no shell, LC_ALL=C, the
// whole process group killed when the step's deadline passes.
//
// arping is iputils' (Debian package iputils-arping), not Thomas Habets'
// package `arping`, whose flags differ. iputils' arping takes whole seconds
// for its wait (-w) and sends at one-second intervals, so an enable waits
// about garp_count seconds for its announcements; the first one goes out at
// once, so the outage does not. Each announcement is its own arping, sent
// only while the address is still on the interface.
//
// IPv6 has no arping. The duplicate probe is then the kernel's own
// duplicate address detection: the address is added without nodad and
// Enable waits until the kernel clears or fails it (one to two seconds);
// the kernel does not say which host answered, so the error cannot name its
// MAC. Forced or unprobed IPv6 enables add the address with nodad. No
// Neighbour Advertisement is sent for IPv6 (iproute2 and iputils have no
// tool for it): clients find the new owner by neighbour unreachability
// detection, in seconds. Use the netlink backend where that matters.
package ipcmd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/command"
	"github.com/vipagent/vipagent/reactions/vip"
)

// Options are the ip backend's configuration options.
type Options struct {
	// IPPath is the ip program, looked up on PATH when it has no slash
	// (default "ip").
	IPPath string `yaml:"ip_path"`
	// ArpingPath is iputils' arping (default "arping").
	ArpingPath string `yaml:"arping_path"`
	// GARPCount is how many gratuitous ARPs arping -U sends, one a second
	// (default 3; 0 sends none).
	GARPCount *int `yaml:"garp_count"`
	// Probe turns the duplicate address probe before an enable on or off
	// (default true).
	Probe *bool `yaml:"probe"`
	// ProbeTimeout is how long arping -D waits for an answer, rounded up to
	// whole seconds (default "1s").
	ProbeTimeout string `yaml:"probe_timeout"`
}

// Backend moves one VIP with ip and arping.
type Backend struct {
	spec       vip.Spec
	addr       netip.Addr
	ipPath     string
	arpingPath string
	garpCount  int
	probe      bool
	probeSecs  int
}

// dadPoll is how often an IPv6 enable looks whether the kernel finished
// duplicate address detection.
const dadPoll = 50 * time.Millisecond

// cleanupTimeout bounds the removal of a half-enabled IPv6 address after
// the step's own deadline passed.
const cleanupTimeout = 2 * time.Second

// interfaceName is what the backend accepts as an interface: it goes into
// argv, never a shell, but a name ip would read as an option is refused.
var interfaceName = regexp.MustCompile(`^[A-Za-z0-9_.:@-]{1,15}$`)

// New returns an ip backend for spec.
func New(spec vip.Spec, raw map[string]any) (*Backend, error) {
	var o Options
	if err := vip.DecodeOptions(raw, &o); err != nil {
		return nil, err
	}
	b := &Backend{spec: spec, ipPath: "ip", arpingPath: "arping", garpCount: 3, probe: true, probeSecs: 1}
	var errs []error
	if !spec.Prefix.IsValid() {
		errs = append(errs, errors.New("address: not an IP prefix"))
	}
	b.addr = spec.Prefix.Addr().Unmap()
	if !interfaceName.MatchString(spec.Interface) || strings.HasPrefix(spec.Interface, "-") {
		errs = append(errs, fmt.Errorf("interface: %q is not an interface name", spec.Interface))
	}
	if o.IPPath != "" {
		b.ipPath = o.IPPath
	}
	if o.ArpingPath != "" {
		b.arpingPath = o.ArpingPath
	}
	if o.GARPCount != nil {
		if *o.GARPCount < 0 || *o.GARPCount > 30 {
			errs = append(errs, fmt.Errorf("options.garp_count: %d is not between 0 and 30", *o.GARPCount))
		}
		b.garpCount = *o.GARPCount
	}
	if o.Probe != nil {
		b.probe = *o.Probe
	}
	if o.ProbeTimeout != "" {
		d, err := time.ParseDuration(o.ProbeTimeout)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("options.probe_timeout: %q is not a positive duration", o.ProbeTimeout))
		} else {
			b.probeSecs = int(math.Ceil(d.Seconds()))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return b, nil
}

// run resolves argv[0] at call time (so a fixed PATH or a program
// installed after start is picked up) and runs argv.
func (b *Backend) run(ctx context.Context, argv ...string) (reactions.Exec, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		res := reactions.Exec{Argv: argv, ExitCode: -1}
		return res, &reactions.ExecError{Exec: res, Err: err}
	}
	argv = append([]string{path}, argv[1:]...)
	return command.Run(ctx, argv, command.Options{})
}

func (b *Backend) prefix() string { return netip.PrefixFrom(b.addr, b.spec.Prefix.Bits()).String() }

// ifaceAddr is one address line of `ip -o addr show`.
type ifaceAddr struct {
	prefix    string
	tentative bool
	dadfailed bool
}

// parseAddrs reads `ip -o addr show` output: one address a line, the
// prefix after "inet" or "inet6", flags among the following words.
func parseAddrs(out string) []ifaceAddr {
	var addrs []ifaceAddr
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] != "inet" && f[i] != "inet6" {
				continue
			}
			rest := f[i+2:]
			addrs = append(addrs, ifaceAddr{
				prefix:    f[i+1],
				tentative: slices.Contains(rest, "tentative"),
				dadfailed: slices.Contains(rest, "dadfailed"),
			})
			break
		}
	}
	return addrs
}

func (b *Backend) find(addrs []ifaceAddr) (ifaceAddr, bool) {
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.prefix)
		if err == nil && p.Addr().Unmap() == b.addr {
			return a, true
		}
	}
	return ifaceAddr{}, false
}

func (b *Backend) list(ctx context.Context) ([]ifaceAddr, error) {
	res, err := b.run(ctx, b.ipPath, "-o", "addr", "show", "dev", b.spec.Interface)
	if err != nil {
		return nil, err
	}
	return parseAddrs(res.Output), nil
}

// Observe reports whether the VIP is on the interface; an IPv6 address
// whose duplicate address detection failed does not count.
func (b *Backend) Observe(ctx context.Context) (reactions.VIPState, error) {
	addrs, err := b.list(ctx)
	if err != nil {
		return reactions.VIPState{}, fmt.Errorf("observe vip %s on %s: %w", b.addr, b.spec.Interface, err)
	}
	var st reactions.VIPState
	shown := make([]string, 0, len(addrs))
	for _, a := range addrs {
		s := a.prefix
		if a.tentative {
			s += " tentative"
		}
		if a.dadfailed {
			s += " dadfailed"
		}
		shown = append(shown, s)
	}
	if a, ok := b.find(addrs); ok && !a.dadfailed {
		st.Present = true
	}
	st.Detail = fmt.Sprintf("%s: %s", b.spec.Interface, strings.Join(shown, ", "))
	return st, nil
}

// Enable probes (unless force or probe is off), adds the VIP and announces
// it. An address already present is success.
func (b *Backend) Enable(ctx context.Context, force bool) error {
	probe := b.probe && !force
	if probe && b.addr.Is6() {
		return b.enableWithDAD(ctx)
	}
	if probe {
		mac, err := b.arpProbe(ctx)
		if err != nil {
			return fmt.Errorf("enable vip %s on %s: probe: %w", b.addr, b.spec.Interface, err)
		}
		if mac != "" {
			return fmt.Errorf("enable vip %s on %s: %w: %s answers for it", b.addr, b.spec.Interface, reactions.ErrDuplicateAddress, mac)
		}
	}
	if err := b.add(ctx, b.addr.Is6()); err != nil {
		return err
	}
	if b.addr.Is4() {
		return b.announce(ctx)
	}
	return nil
}

// rollbackTimeout bounds removing the VIP again after its first
// announcement failed, when the step's own context may be what ended.
const rollbackTimeout = 10 * time.Second

// announce sends garp_count gratuitous ARPs, one arping -U -c 1 each (it
// sends at once, then waits its one-second interval). Before every frame
// but the first, which follows the add, it checks that the address is
// still on the interface, and stops if not: announce only what you hold.
// Whoever removed it (a person, another tool) may have moved it, and a
// late frame would point clients back at a host that no longer answers.
// A single arping -c N would keep sending whatever happened meanwhile.
func (b *Backend) announce(ctx context.Context) error {
	for i := range b.garpCount {
		if i > 0 {
			addrs, err := b.list(ctx)
			if err != nil {
				return fmt.Errorf("enable vip %s on %s: before announcement %d: %w", b.addr, b.spec.Interface, i+1, err)
			}
			if a, ok := b.find(addrs); !ok || a.dadfailed {
				return nil
			}
		}
		if _, err := b.run(ctx, b.arpingPath, "-U", "-c", "1", "-I", b.spec.Interface, b.addr.String()); err != nil {
			if i == 0 {
				// Nobody was told: take the address away again, so that
				// a failed step leaves nothing held and a retry does not
				// find it present and call it unchanged.
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
				defer cancel()
				if derr := b.Disable(rctx); derr != nil {
					return fmt.Errorf("enable vip %s on %s: announce: %w (and removing the address again failed: %v)", b.addr, b.spec.Interface, err, derr)
				}
				return fmt.Errorf("enable vip %s on %s: announce: %w; the address was removed again", b.addr, b.spec.Interface, err)
			}
			return fmt.Errorf("enable vip %s on %s: announce: %w", b.addr, b.spec.Interface, err)
		}
	}
	return nil
}

// add runs ip addr add; when it fails but the address is there after all
// (someone was quicker, or it was there already), that is success.
func (b *Backend) add(ctx context.Context, nodad bool) error {
	argv := []string{b.ipPath, "addr", "add", b.prefix(), "dev", b.spec.Interface}
	if nodad {
		argv = append(argv, "nodad")
	}
	_, err := b.run(ctx, argv...)
	if err == nil {
		return nil
	}
	if addrs, lerr := b.list(ctx); lerr == nil {
		if a, ok := b.find(addrs); ok && !a.dadfailed {
			return nil
		}
	}
	return fmt.Errorf("enable vip %s on %s: %w", b.addr, b.spec.Interface, err)
}

var macInReply = regexp.MustCompile(`reply from \S+ \[([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\]`)

// arpProbe runs arping -D and returns the MAC of the host that answered,
// "" when none did. iputils' arping exits 0 when nobody answered and 1
// when someone did; anything else is an error, and the enable does not go
// ahead on a probe it could not read.
func (b *Backend) arpProbe(ctx context.Context) (string, error) {
	res, err := b.run(ctx, b.arpingPath, "-D", "-c", "1", "-w", strconv.Itoa(b.probeSecs), "-I", b.spec.Interface, b.addr.String())
	if err == nil {
		return "", nil
	}
	if ctx.Err() == nil && res.ExitCode == 1 {
		if m := macInReply.FindStringSubmatch(res.Output); m != nil {
			return strings.ToLower(m[1]), nil
		}
	}
	return "", err
}

// enableWithDAD adds an IPv6 VIP with the kernel's duplicate address
// detection and waits for its verdict.
func (b *Backend) enableWithDAD(ctx context.Context) error {
	if err := b.add(ctx, false); err != nil {
		return err
	}
	for {
		addrs, err := b.list(ctx)
		if err != nil {
			return errors.Join(fmt.Errorf("enable vip %s on %s: wait for duplicate address detection: %w", b.addr, b.spec.Interface, err),
				b.removeAfterFailure(ctx))
		}
		a, ok := b.find(addrs)
		switch {
		case !ok:
			return fmt.Errorf("enable vip %s on %s: address vanished during duplicate address detection", b.addr, b.spec.Interface)
		case a.dadfailed:
			return errors.Join(fmt.Errorf("enable vip %s on %s: %w: the kernel's duplicate address detection got an answer (ip does not report the answering MAC)",
				b.addr, b.spec.Interface, reactions.ErrDuplicateAddress), b.removeAfterFailure(ctx))
		case !a.tentative:
			return nil
		}
		t := time.NewTimer(dadPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(fmt.Errorf("enable vip %s on %s: wait for duplicate address detection: %w", b.addr, b.spec.Interface, ctx.Err()),
				b.removeAfterFailure(ctx))
		case <-t.C:
		}
	}
}

// removeAfterFailure takes a tentative or failed address off again, so a
// failed enable leaves the host as it found it. It gets its own short
// deadline: the step's may be what ended.
func (b *Backend) removeAfterFailure(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if _, err := b.run(ctx, b.ipPath, "addr", "del", b.prefix(), "dev", b.spec.Interface); err != nil {
		return fmt.Errorf("remove the unconfirmed address again: %w", err)
	}
	return nil
}

// Disable removes the VIP, whatever prefix length it has; an absent VIP is
// success.
func (b *Backend) Disable(ctx context.Context) error {
	_, err := b.run(ctx, b.ipPath, "addr", "del", b.prefix(), "dev", b.spec.Interface)
	if err == nil {
		return nil
	}
	addrs, lerr := b.list(ctx)
	if lerr != nil {
		return fmt.Errorf("disable vip %s on %s: %w", b.addr, b.spec.Interface, err)
	}
	stillThere := false
	for _, a := range addrs {
		if p, perr := netip.ParsePrefix(a.prefix); perr != nil || p.Addr().Unmap() != b.addr {
			continue
		}
		if a.prefix == b.prefix() {
			stillThere = true
			continue
		}
		// ip deletes an address only at its own prefix length, and a
		// person may have added the VIP by hand with another one (a host
		// route): remove it as it is, so that the verification after this
		// step finds it gone.
		if _, derr := b.run(ctx, b.ipPath, "addr", "del", a.prefix, "dev", b.spec.Interface); derr != nil {
			return fmt.Errorf("disable vip %s on %s: %w", b.addr, b.spec.Interface, derr)
		}
	}
	if stillThere {
		return fmt.Errorf("disable vip %s on %s: %w", b.addr, b.spec.Interface, err)
	}
	return nil
}
