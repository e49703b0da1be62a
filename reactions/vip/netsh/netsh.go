// Package netsh is the Windows IP-takeover backend (`backend: netsh`): it
// adds and deletes the VIP with `netsh interface ipv4|ipv6 add|delete
// address`, as Genesys' IPTakeOver.bat does, and optionally announces it
// with an arping program.
//
// State is never read from netsh's output, which Windows localises: the
// backend looks at the interface through Go's net package and, on Windows,
// at the address's duplicate address detection (DAD) state through the IP
// Helper API. A tentative address is waited for (bounded by the context); a
// duplicate one fails with reactions.ErrDuplicateAddress.
//
// netsh can take 15 s and sometimes 30-45 s to change an address (Genesys'
// own measure), so a netsh VIP's step timeout defaults to 90 s (set by the
// agent). The backend sets no timeout of its own on netsh: the step's
// deadline bounds it, and the whole process tree is killed when it ends.
// netsh also fails while the NIC's settings are open in the Network
// Properties dialog; see change for how that is retried.
//
// The address is added with store=active by default: a host that reboots
// while holding the VIP comes back without it, instead of bringing back an
// address the other node now holds.
package netsh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/command"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/hostcmd"
)

// Options are the netsh backend's configuration options.
type Options struct {
	// NetshPath overrides netsh.exe from the Windows system directory. It
	// must be absolute. Needed on other systems (tests point it at a fake).
	NetshPath string `yaml:"netsh_path"`
	// Store is passed to `add address` as store=<value>: "active" (the
	// default: the address is gone after a reboot) or "persistent"
	// (netsh's own default, what IPTakeOver.bat does).
	Store string `yaml:"store"`
	// Arping, when set, runs after a successful add, once Windows' duplicate
	// address detection accepted the address. Elements may use ${vip},
	// ${address}, ${prefix_len}, ${mask}, ${interface},
	// ${interface_for_arping} and ${gateway}.
	Arping []string `yaml:"arping"`
	// InterfaceForArping is the capture device arping sends on, e.g.
	// \Device\NPF_{85FEBE1C-9EEF-4E61-974B-1158DB270F6E}.
	InterfaceForArping string `yaml:"interface_for_arping"`
	// Gateway is the address arping targets, e.g. the default gateway.
	Gateway string `yaml:"gateway"`
	// ArpingTimeout bounds the arping run (default 5s), within the step's.
	ArpingTimeout string `yaml:"arping_timeout"`
}

// pollInterval is how often Verify looks again at a tentative address.
const pollInterval = 100 * time.Millisecond

// SlowestChange is the longest a netsh change takes by Genesys' measure
// ("as long as 30-45 seconds"). A failed netsh is run again only while the
// step's deadline leaves this much, so that no retry is killed mid-change.
const SlowestChange = 45 * time.Second

// DefaultTimeout is a netsh VIP's step timeout when the config sets none:
// one slowest change and the room to retry one that failed fast.
const DefaultTimeout = 2 * SlowestChange

// Backend moves one VIP with netsh.
type Backend struct {
	spec          vip.Spec
	netsh         string
	store         string
	arping        []string
	arpingTimeout time.Duration
	// retryReserve is SlowestChange; tests shorten it.
	retryReserve time.Duration
	// observe is swapped by tests; see observeFunc.
	observe observeFunc
}

// New returns a netsh backend for spec.
func New(spec vip.Spec, raw map[string]any) (*Backend, error) {
	var o Options
	if err := vip.DecodeOptions(raw, &o); err != nil {
		return nil, err
	}
	if !spec.Prefix.IsValid() {
		return nil, fmt.Errorf("netsh backend: vip %q has no address", spec.Name)
	}
	if err := checkInterface(spec.Interface); err != nil {
		return nil, err
	}
	b := &Backend{spec: spec, store: "active", arpingTimeout: 5 * time.Second, retryReserve: SlowestChange, observe: observeSystem}
	switch {
	case o.NetshPath != "":
		if !filepath.IsAbs(o.NetshPath) {
			return nil, fmt.Errorf("options.netsh_path: %q is not an absolute path", o.NetshPath)
		}
		b.netsh = o.NetshPath
	default:
		p, err := hostcmd.SystemProgram("netsh.exe")
		if err != nil {
			return nil, fmt.Errorf("netsh backend: %w", err)
		}
		b.netsh = p
	}
	switch o.Store {
	case "":
	case "active", "persistent":
		b.store = o.Store
	default:
		return nil, errors.New("options.store: must be active or persistent")
	}
	if o.ArpingTimeout != "" {
		d, err := time.ParseDuration(o.ArpingTimeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("options.arping_timeout: %q is not a positive duration", o.ArpingTimeout)
		}
		b.arpingTimeout = d
	}
	if len(o.Arping) > 0 {
		if !filepath.IsAbs(o.Arping[0]) {
			return nil, fmt.Errorf("options.arping: the program %q must be an absolute path", o.Arping[0])
		}
		values := placeholders(spec)
		values["interface_for_arping"] = o.InterfaceForArping
		values["gateway"] = o.Gateway
		argv, err := hostcmd.Expand(o.Arping, values)
		if err != nil {
			return nil, fmt.Errorf("options.arping: %w", err)
		}
		b.arping = argv
	}
	return b, nil
}

// checkInterface refuses names that netsh's own parser would split or
// misread; the config validates more strictly, this is the last line.
func checkInterface(name string) error {
	switch {
	case name == "":
		return errors.New("netsh backend: the vip needs an interface")
	case strings.ContainsAny(name, "\"\x00\r\n"), strings.TrimSpace(name) != name:
		return fmt.Errorf("netsh backend: interface %q has characters netsh cannot take", name)
	}
	return nil
}

// placeholders are the values every argv template of this backend sees.
func placeholders(spec vip.Spec) map[string]string {
	return map[string]string{
		"vip":        spec.Prefix.Addr().String(),
		"address":    spec.Prefix.String(),
		"prefix_len": strconv.Itoa(spec.Prefix.Bits()),
		"mask":       dottedMask(spec.Prefix),
		"interface":  spec.Interface,
	}
}

// dottedMask is the IPv4 netmask netsh's mask= wants; empty for IPv6.
func dottedMask(p netip.Prefix) string {
	if !p.Addr().Is4() {
		return ""
	}
	return net.IP(net.CIDRMask(p.Bits(), 32)).String()
}

// addArgv is the add command. name=/interface= and its value are one argv
// element: Go quotes it for CreateProcess ("name=Ethernet 2"), and netsh's
// C runtime argument parsing gives it back whole, as it would for
// name="Ethernet 2" typed at a prompt.
func (b *Backend) addArgv() []string {
	p := b.spec.Prefix
	var argv []string
	if p.Addr().Is4() {
		argv = []string{b.netsh, "interface", "ipv4", "add", "address",
			"name=" + b.spec.Interface, "address=" + p.Addr().String(), "mask=" + dottedMask(p)}
	} else {
		argv = []string{b.netsh, "interface", "ipv6", "add", "address",
			"interface=" + b.spec.Interface, "address=" + p.String()}
	}
	return append(argv, "store="+b.store)
}

// deleteArgv is the delete command; without store= it removes the address
// from both the active and the persistent configuration.
func (b *Backend) deleteArgv() []string {
	a := b.spec.Prefix.Addr()
	if a.Is4() {
		return []string{b.netsh, "interface", "ipv4", "delete", "address",
			"name=" + b.spec.Interface, "address=" + a.String()}
	}
	return []string{b.netsh, "interface", "ipv6", "delete", "address",
		"interface=" + b.spec.Interface, "address=" + a.String()}
}

func (b *Backend) look(ctx context.Context) (observation, error) {
	o, err := b.observe(ctx, b.spec.Interface, b.spec.Prefix.Addr())
	if err != nil {
		return o, fmt.Errorf("observe %s on %q: %w", b.spec.Prefix, b.spec.Interface, err)
	}
	return o, nil
}

// Observe reports whether the host holds the VIP: configured on the
// interface and not marked duplicate.
func (b *Backend) Observe(ctx context.Context) (reactions.VIPState, error) {
	o, err := b.look(ctx)
	if err != nil {
		return reactions.VIPState{}, err
	}
	return o.vipState(b.spec.Prefix, b.spec.Interface), nil
}

// Enable adds the VIP, waits until Windows' duplicate address detection
// accepted it and then runs arping, if configured. force changes nothing
// here: Windows itself probes for duplicates and never uses an address it
// found duplicate, so there is nothing to skip.
//
// A duplicate address left over from an earlier attempt is deleted first,
// because netsh refuses to add an address that is already configured.
//
// An arping failure after a successful add fails the step with arping's
// argv and output; the address stays configured (Windows announced it
// itself during detection), and the person reading the result decides.
func (b *Backend) Enable(ctx context.Context, force bool) error {
	o, err := b.look(ctx)
	if err != nil {
		return err
	}
	if o.Configured && o.DAD == dadDuplicate {
		if err := b.change(ctx, b.deleteArgv(), false); err != nil {
			return fmt.Errorf("delete duplicate %s from %q before adding it again: %w", b.spec.Prefix, b.spec.Interface, err)
		}
	}
	if err := b.change(ctx, b.addArgv(), true); err != nil {
		return fmt.Errorf("add %s to %q: %w", b.spec.Prefix, b.spec.Interface, err)
	}
	if _, err := b.Verify(ctx, true); err != nil {
		return err
	}
	if len(b.arping) == 0 {
		return nil
	}
	actx, cancel := context.WithTimeout(ctx, b.arpingTimeout)
	defer cancel()
	if _, err := command.Run(actx, b.arping, command.Options{}); err != nil {
		return fmt.Errorf("announce %s (the address is configured): %w", b.spec.Prefix, err)
	}
	return nil
}

// Disable deletes the VIP.
func (b *Backend) Disable(ctx context.Context) error {
	if err := b.change(ctx, b.deleteArgv(), false); err != nil {
		return fmt.Errorf("delete %s from %q: %w", b.spec.Prefix, b.spec.Interface, err)
	}
	return nil
}

// change runs a netsh add (configured: true) or delete. netsh fails while
// the NIC's settings are open in the Network Properties dialog ("being
// accessed"), but its message is localised and its exit code is 1 for
// every failure, so that failure is told apart by behaviour, not by text:
// after a failed run the backend looks at the interface again. An address
// already as wanted ends the change; otherwise netsh runs again after a
// short pause, as long as the step's deadline leaves room for a whole
// slowest change. A failure that outlasts that ends the change with the
// count of attempts and the last one's argv, exit code and output (a
// failure that is not transient, such as missing rights, ends the same way).
func (b *Backend) change(ctx context.Context, argv []string, configured bool) error {
	for attempt := 1; ; attempt++ {
		_, err := command.Run(ctx, argv, command.Options{})
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		if o, oerr := b.look(ctx); oerr == nil && o.Configured == configured && (!configured || o.DAD != dadDuplicate) {
			return nil
		}
		pause := min(time.Duration(attempt)*time.Second, 5*time.Second)
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) < pause+b.retryReserve {
			if attempt == 1 {
				return err
			}
			return fmt.Errorf("netsh failed %d times in a row (is the adapter's Properties dialog open?), last: %w", attempt, err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

// Verify waits, looking every 100 ms and bounded by ctx, until the VIP is
// held (want) or gone (!want). It fails at once, with an error wrapping
// reactions.ErrDuplicateAddress, when Windows marks the address duplicate.
func (b *Backend) Verify(ctx context.Context, want bool) (reactions.VIPState, error) {
	var last observation
	err := hostcmd.Poll(ctx, pollInterval, func() (bool, error) {
		o, err := b.look(ctx)
		if err != nil {
			return false, err
		}
		last = o
		return settled(o, want)
	})
	st := last.vipState(b.spec.Prefix, b.spec.Interface)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return st, fmt.Errorf("%s did not become %s on %q (%s): %w", b.spec.Prefix, reactions.Presence(want), b.spec.Interface, st.Detail, err)
		}
		return st, fmt.Errorf("verify %s on %q: %w", b.spec.Prefix, b.spec.Interface, err)
	}
	return st, nil
}
