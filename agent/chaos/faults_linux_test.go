package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

const (
	// cliMargin is what a command may take beyond its --wait before the
	// harness calls it hung, kills it and counts a violation of "every
	// wait is bounded".
	cliMargin = 3 * time.Second
)

// cliWait is the --wait every operation passes (longer under Wine, where
// every program start takes a while; see labOptions.timings).
var cliWait = 5 * time.Second

// lossRules is the nftables ruleset of the loss fault (this kernel has no
// netem qdisc): drop a share of what enters and leaves the lab interface.
const lossRules = `table inet chaos {
	chain in { type filter hook input priority 0; policy accept; iifname "vip0" numgen random mod 100 < %[1]d drop; }
	chain out { type filter hook output priority 0; policy accept; oifname "vip0" numgen random mod 100 < %[1]d drop; }
}
`

// inject starts fault f.
func (c *cluster) inject(f *fault) error {
	switch f.kind {
	case faultKill:
		c.kill(c.nodes[f.node])
	case faultStop:
		c.nodes[f.node].signal(syscall.SIGSTOP)
	case faultPartition:
		if err := c.cutOffInModel("both", true); err != nil {
			return err
		}
		return c.isolate("on")
	case faultLinkDown:
		if err := c.cutOffInModel(f.node, true); err != nil {
			return err
		}
		_, err := c.lab.Exec(c.nodes[f.node].lab.Name, "ip", "link", "set", viptest.Interface, "down")
		return err
	case faultLoss:
		file := filepath.Join(c.dir, fmt.Sprintf("loss-%d.nft", f.n))
		if err := os.WriteFile(file, fmt.Appendf(nil, lossRules, f.loss), 0o600); err != nil {
			return err
		}
		_, err := c.lab.Exec(c.nodes[f.node].lab.Name, "nft", "-f", file)
		return err
	case faultDelay, faultStall, faultCut:
		mode := map[faultKind]proxyMode{faultDelay: proxyDelay, faultStall: proxyStall, faultCut: proxyCut}[f.kind]
		for name, p := range c.proxies {
			if f.node == "both" || f.node == name {
				p.set(mode, f.delay)
			}
		}
	case faultDiskFull:
		return fillDisk(c.tmpfs)
	}
	return nil
}

// heal ends fault f. Heals are idempotent: healAll runs them all again.
func (c *cluster) heal(f *fault) error {
	switch f.kind {
	case faultKill:
		if n := c.nodes[f.node]; !n.running() {
			return c.start(n)
		}
	case faultStop:
		c.nodes[f.node].signal(syscall.SIGCONT)
	case faultPartition:
		if err := c.isolate("off"); err != nil {
			return err
		}
		return c.cutOffInModel("both", false)
	case faultLinkDown:
		if _, err := c.lab.Exec(c.nodes[f.node].lab.Name, "ip", "link", "set", viptest.Interface, "up"); err != nil {
			return err
		}
		return c.cutOffInModel(f.node, false)
	case faultLoss:
		out, err := c.lab.Exec(c.nodes[f.node].lab.Name, "nft", "list", "tables")
		if err != nil || !strings.Contains(out, "inet chaos") {
			return err
		}
		_, err = c.lab.Exec(c.nodes[f.node].lab.Name, "nft", "delete", "table", "inet", "chaos")
		return err
	case faultDelay, faultStall, faultCut:
		for name, p := range c.proxies {
			if f.node == "both" || f.node == name {
				p.set(proxyPass, 0)
			}
		}
	case faultDiskFull:
		err := os.Remove(filepath.Join(c.tmpfs, fillerName))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	return nil
}

// healAll heals every kind of fault on every node, whatever the schedule
// did, so that a fault whose heal failed is healed too.
func (c *cluster) healAll() []error {
	var errs []error
	for _, f := range []fault{
		{kind: faultDelay, node: "both"}, // every proxy back to pass
		{kind: faultDiskFull},
		{kind: faultPartition},
		{kind: faultLinkDown, node: "rm1"}, {kind: faultLinkDown, node: "rm2"},
		{kind: faultLoss, node: "rm1"}, {kind: faultLoss, node: "rm2"},
		{kind: faultStop, node: "rm1"}, {kind: faultStop, node: "rm2"},
		{kind: faultKill, node: "rm1"}, {kind: faultKill, node: "rm2"}, // restarts a dead agent
	} {
		if err := c.heal(&f); err != nil {
			errs = append(errs, fmt.Errorf("heal %s on %s: %w", f.kind, f.node, err))
		}
	}
	return errs
}

// cutOffInModel tells the Windows host model, if there is one, that node
// ("both": the pair) is cut off or reachable again.
func (c *cluster) cutOffInModel(node string, cut bool) error {
	if c.win == nil {
		return nil
	}
	return c.win.cutOff(node, cut)
}

// isolate turns bridge port isolation of rm1's and rm2's ports on or off:
// isolated ports cannot reach each other, but both still reach the client.
func (c *cluster) isolate(state string) error {
	for _, port := range []string{"rm1", "rm2"} {
		if _, err := c.lab.Exec(c.lab.Bridge, "bridge", "link", "set", "dev", port, "isolated", state); err != nil {
			return err
		}
	}
	return nil
}

const fillerName = "chaos-filler"

// fillDisk writes to a file in dir until the file system is full (bounded
// by the tmpfs' size: it stops at ENOSPC, or after 64 MiB in any case).
func fillDisk(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, fillerName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for range 1024 {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return err
		}
	}
	return errors.New("the file system did not fill up within 64 MiB")
}

// runOp runs one client operation and records what became of it. It is
// bounded: the command is killed cliMargin after its --wait.
func (c *cluster) runOp(s *schedule, o *op) {
	n := c.nodes[o.node]
	ns, winePrefix := c.lab.Client.Name, "client"
	// A command talks only to the agent of its config: the node's.
	remote := []string{"--config", c.path(n.cfg), "--agent", n.url(), "--token", c.token, "--json", "--wait", cliWait.String()}
	var argv []string
	var res opResult
	switch o.kind {
	case opFire, opRepeat:
		argv = append([]string{"fire", "--condition", o.condition, "--id", o.key}, remote...)
		if o.kind == opRepeat {
			s.mu.Lock()
			ref := s.ops[o.ref].res
			s.mu.Unlock()
			if !ref.completed.IsZero() && ref.eventID != "" && ref.outcome != outcomeUnknown {
				res.refEvent = ref.eventID
			}
		}
	case opEnable:
		argv = append([]string{"vip", "enable", vipName, "--reason", fmt.Sprintf("chaos %d op %d", s.seed, o.n)}, remote...)
	case opReplay:
		s.mu.Lock()
		id := s.ops[o.ref].res.eventID
		s.mu.Unlock()
		if id == "" {
			now := time.Now()
			res = opResult{invoked: now, completed: now, outcome: outcomeSkipped, detail: fmt.Sprintf("op %d has no event to replay", o.ref)}
			s.mu.Lock()
			o.res = res
			s.mu.Unlock()
			return
		}
		argv = append([]string{"replay", id}, remote...)
	case opFailover:
		ns, winePrefix = n.lab.Name, n.name
		argv = []string{"failover", o.action}
		if o.member != 0 {
			argv = append(argv, fmt.Sprint(o.member))
		}
		argv = append(argv, "--config", c.path(n.cfg), "--json", "--wait", cliWait.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliWait+cliMargin)
	defer cancel()
	prog := []string{c.bin}
	env := append(os.Environ(), "LC_ALL=C")
	if c.wine != "" {
		// As on Windows: SCS's reactions, RM's failoverscript and the
		// operator all run vipagent.exe with the node's configuration
		// (failover in-process when its agent is down).
		prog, env = []string{"wine", c.wine}, c.wineEnv(winePrefix)
	}
	cmd := exec.CommandContext(ctx, "ip", append(append([]string{"netns", "exec", ns}, prog...), argv...)...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	res.invoked = time.Now()
	err := cmd.Run()
	res.completed = time.Now()
	res.overran = ctx.Err() != nil
	res.exit = cmd.ProcessState.ExitCode()
	classify(&res, err, stdout.Bytes(), stderr.String())
	res.ownConfig = res.exit == 2 && strings.Contains(stderr.String(), filepath.Base(n.cfg)+":")
	if res.outcome == outcomeSucceeded && o.check != checkNone {
		// What the operation left, before anything else can move it.
		res.after, res.afterErr = c.observeHolders()
		res.observed = time.Now()
	}
	s.mu.Lock()
	o.res = res
	s.mu.Unlock()
}

// classify turns a command's exit, output and JSON into an outcome.
func classify(res *opResult, runErr error, stdout []byte, stderr string) {
	var body struct {
		EventID   string `json:"event_id"`
		Status    string `json:"status"`
		Duplicate bool   `json:"duplicate"`
		Error     string `json:"error"`
	}
	parsed := json.Unmarshal(bytes.TrimSpace(stdout), &body) == nil
	res.eventID, res.status, res.duplicate = body.EventID, body.Status, body.Duplicate
	res.detail = strings.TrimSpace(body.Error)
	if msg := strings.TrimSpace(stderr); msg != "" {
		res.detail = strings.TrimSpace(res.detail + " " + lastLine(msg))
	}
	switch {
	case res.overran:
		res.outcome = outcomeUnknown
		res.detail = strings.TrimSpace(fmt.Sprintf("killed %s after its --wait %s: %s", cliMargin, cliWait, res.detail))
	case parsed && body.EventID != "" && body.Status != "":
		switch {
		case body.Duplicate:
			res.outcome = outcomeDuplicate
		case body.Status == "succeeded":
			res.outcome = outcomeSucceeded
		case body.Status == "unmatched":
			res.outcome = outcomeRejected
		case body.Status == "failed" || body.Status == "timeout" || body.Status == "superseded":
			res.outcome = outcomeFailed
		default:
			res.outcome = outcomeUnknown
		}
	case res.exit == 2 || res.exit == 3:
		res.outcome = outcomeRejected
	case strings.Contains(stderr, "connection refused"):
		res.outcome = outcomeRejected
	case strings.Contains(stderr, "agent answered 4"):
		res.outcome = outcomeRejected
	default:
		res.outcome = outcomeUnknown
		if res.detail == "" && runErr != nil {
			res.detail = runErr.Error()
		}
	}
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
