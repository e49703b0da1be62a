package winhost

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Program is a fake Windows program run on one host of a model.
type Program struct {
	Model File
	Host  string
	// Sleep waits; nil is time.Sleep (tests of the model swap it).
	Sleep func(time.Duration)
}

func (p Program) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	if p.Sleep != nil {
		p.Sleep(d)
		return
	}
	time.Sleep(d)
}

// Messages of the fakes, as the English Windows programs print them.
const (
	MsgExists   = "The object already exists."
	MsgNotFound = "Element not found."
	// MsgBusy is what netsh says when another program (the Network
	// Properties dialog) holds the NIC's configuration.
	MsgBusy      = "The process cannot access the file because it is being used by another process."
	MsgNoAdapter = "The filename, directory name, or volume label syntax is incorrect."
	nlbBanner    = "WLBS Cluster Control Utility V2.6 (c) 1997-2007 Microsoft Corporation."
)

// errExit is a failure the program reports with its message and exit code.
type errExit struct {
	msg  string
	code int
}

func (e *errExit) Error() string { return e.msg }

// Netsh runs `netsh interface ipv4|ipv6 add|delete address ...` against the
// model: it exits 0 and prints an empty line when the change was made, and
// prints a message and exits 1 when it was not. The change takes effect
// part-way through its latency.
func (p Program) Netsh(args []string, stdout io.Writer) int {
	change, msg := parseNetsh(args)
	if msg != "" {
		fmt.Fprintln(stdout, msg)
		return 1
	}
	r, cfg, err := p.Model.draw()
	if err != nil {
		fmt.Fprintln(stdout, err)
		return 2
	}
	scale := func(d Duration) time.Duration { return time.Duration(float64(d) * cfg.Scale) }
	if r.IntN(100) < cfg.BusyPercent {
		p.sleep(between(r, 0, scale(Duration(2*time.Second))))
		fmt.Fprintln(stdout, MsgBusy)
		return 1
	}
	lo, hi := scale(cfg.NetshMin), scale(Duration(15*time.Second))
	if r.IntN(100) < cfg.SlowPercent {
		lo, hi = hi, scale(cfg.NetshMax)
	}
	hi = min(hi, scale(cfg.NetshMax))
	total := between(r, min(lo, hi), hi)
	at := time.Duration(float64(total) * (0.3 + 0.7*r.Float64()))
	p.sleep(at)
	_, err = p.Model.Update(func(m *Model, _ time.Time) error {
		h := m.Hosts[p.Host]
		if h == nil {
			return fmt.Errorf("host %q is not in the model", p.Host)
		}
		addrs, ok := h.Adapters[change.adapter]
		if !ok {
			return &errExit{MsgNoAdapter, 1}
		}
		i := slices.IndexFunc(addrs, func(a string) bool { return sameAddr(a, change.address) })
		switch {
		case change.add && i >= 0:
			return &errExit{MsgExists, 1}
		case change.add:
			h.Adapters[change.adapter] = append(addrs, change.address)
			if m.heldElsewhere(p.Host, change.adapter, change.address, true) {
				// Windows' duplicate address detection: netsh succeeds,
				// the address stays configured and is never used.
				if h.Duplicate == nil {
					h.Duplicate = map[string][]string{}
				}
				h.Duplicate[change.adapter] = append(h.Duplicate[change.adapter], change.address)
			}
		case i < 0:
			return &errExit{MsgNotFound, 1}
		default:
			gone := addrs[i]
			h.Adapters[change.adapter] = slices.Delete(addrs, i, i+1)
			if h.Duplicate != nil {
				h.Duplicate[change.adapter] = slices.DeleteFunc(h.Duplicate[change.adapter], func(a string) bool { return a == gone })
			}
		}
		return nil
	})
	p.sleep(total - at)
	var ee *errExit
	switch {
	case errors.As(err, &ee):
		fmt.Fprintln(stdout, ee.msg)
		return ee.code
	case err != nil:
		fmt.Fprintln(stdout, err)
		return 2
	}
	fmt.Fprintln(stdout)
	return 0
}

// sameAddr compares the addresses of two IP/len strings.
func sameAddr(a, b string) bool {
	pa, err1 := netip.ParsePrefix(a)
	pb, err2 := netip.ParsePrefix(b)
	return err1 == nil && err2 == nil && pa.Addr() == pb.Addr()
}

type netshChange struct {
	add     bool
	adapter string
	address string // IP/len
}

// parseNetsh reads the argv the netsh backend gives: `interface ipv4 add
// address name=X address=A mask=M [store=S]` and its ipv6 and delete
// forms, or the message netsh prints for a command it cannot take. Keys
// are case-insensitive, as netsh's are.
func parseNetsh(args []string) (netshChange, string) {
	var c netshChange
	if len(args) < 4 || !strings.EqualFold(args[0], "interface") || !strings.EqualFold(args[3], "address") {
		return c, "The following command was not found: " + strings.Join(args, " ") + "."
	}
	v6 := strings.EqualFold(args[1], "ipv6")
	if !v6 && !strings.EqualFold(args[1], "ipv4") {
		return c, "The following command was not found: " + strings.Join(args, " ") + "."
	}
	switch strings.ToLower(args[2]) {
	case "add":
		c.add = true
	case "delete":
	default:
		return c, "The following command was not found: " + strings.Join(args, " ") + "."
	}
	kv := map[string]string{}
	for _, a := range args[4:] {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return c, "The parameter is incorrect."
		}
		kv[strings.ToLower(k)] = v
	}
	c.adapter = kv["name"]
	if v6 {
		c.adapter = kv["interface"]
	}
	addr := kv["address"]
	if c.adapter == "" || addr == "" {
		return c, "One or more essential parameters were not entered."
	}
	switch {
	case v6 && strings.Contains(addr, "/"):
		p, err := netip.ParsePrefix(addr)
		if err != nil {
			return c, "The parameter is incorrect."
		}
		c.address = p.String()
	case v6:
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return c, "The parameter is incorrect."
		}
		c.address = netip.PrefixFrom(a, 64).String()
	default:
		a, err := netip.ParseAddr(addr)
		if err != nil || !a.Is4() {
			return c, "The parameter is incorrect."
		}
		bits := 32
		if m := kv["mask"]; m != "" {
			ma, err := netip.ParseAddr(m)
			if err != nil || !ma.Is4() {
				return c, "The parameter is incorrect."
			}
			bits = maskBits(ma)
		}
		c.address = netip.PrefixFrom(a, bits).String()
	}
	return c, ""
}

func maskBits(m netip.Addr) int {
	n := 0
	for _, b := range m.As4() {
		for i := 7; i >= 0 && b&(1<<i) != 0; i-- {
			n++
		}
	}
	return n
}

// NLB runs nlb.exe's `start|stop|drainstop|enable|disable|query [port]
// <cluster> local` against this host of the model. Like nlb.exe it ends
// every processed command with exit code 1; what happened is in the text.
func (p Program) NLB(args []string, stdout io.Writer) int {
	fmt.Fprintln(stdout, nlbBanner)
	if len(args) < 3 || !strings.EqualFold(args[len(args)-1], "local") {
		fmt.Fprintln(stdout, "Usage: nlb <command> [<cluster>[:<host>] | local]")
		return 255
	}
	verb, cluster := strings.ToLower(args[0]), args[len(args)-2]
	r, cfg, err := p.Model.draw()
	if err != nil {
		fmt.Fprintln(stdout, err)
		return 2
	}
	p.sleep(between(r, 0, time.Duration(float64(cfg.NLBMax)*cfg.Scale)))
	var out strings.Builder
	_, err = p.Model.Update(func(m *Model, now time.Time) error {
		h := m.Hosts[p.Host]
		if h == nil {
			return fmt.Errorf("host %q is not in the model", p.Host)
		}
		running := h.NLB == Converging || h.NLB == Converged
		switch verb {
		case "start":
			if running {
				out.WriteString("Cluster operations already started.\n")
				return nil
			}
			h.NLB, h.Since = Converging, now
			h.Converging++
			out.WriteString("Cluster operations started.\n")
		case "stop":
			h.NLB, h.Since = Stopped, now
			out.WriteString("Cluster operations stopped.\n")
		case "drainstop":
			if !running {
				out.WriteString("Cluster operations already stopped.\n")
				return nil
			}
			h.NLB, h.Since = Draining, now
			out.WriteString("Connection draining started.\n")
		case "enable", "disable":
			if !running {
				out.WriteString("Cannot modify traffic handling because cluster operations are stopped.\n")
				return nil
			}
			fmt.Fprintf(&out, "Traffic handling for specified port rule(s) %sd.\n", verb)
		case "query":
			fmt.Fprintf(&out, "Cluster %s\n", cluster)
			out.WriteString(queryText(m, h))
		default:
			return &errExit{"Usage: nlb <command> [<cluster>[:<host>] | local]", 255}
		}
		return nil
	})
	var ee *errExit
	switch {
	case errors.As(err, &ee):
		fmt.Fprintln(stdout, ee.msg)
		return ee.code
	case err != nil:
		fmt.Fprintln(stdout, err)
		return 2
	}
	fmt.Fprint(stdout, out.String())
	return 1
}

// queryText is what `nlb query` says of host h.
func queryText(m *Model, h *Host) string {
	id := strconv.Itoa(h.Member)
	if h.NLB == Stopped || h.NLB == "" {
		return "Host " + id + " is stopped and does not know convergence state of the cluster.\n"
	}
	var ids []string
	cluster := m.Cluster()
	for _, n := range cluster {
		ids = append(ids, strconv.Itoa(n))
	}
	list := " with the following host(s) as part of the cluster:\n" + strings.Join(ids, ", ") + "\n"
	history := fmt.Sprintf("Host %s has entered a converging state %d time(s) since its last reboot.\n", id, h.Converging)
	switch h.NLB {
	case Converging:
		return history + "Host " + id + " converging" + list
	case Draining:
		return history + "Host " + id + " draining connections" + list
	}
	// The host with the highest priority (lowest ID) handles the default
	// port rule's traffic.
	if len(cluster) > 0 && cluster[0] == h.Member {
		return history + "Host " + id + " converged as DEFAULT" + list
	}
	return history + "Host " + id + " converged" + list
}
