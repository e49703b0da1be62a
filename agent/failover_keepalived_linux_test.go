package agent_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// keepalived is BenchmarkFailover's fourth method: VRRP as most Linux
// pairs run it. Each node runs keepalived with one vrrp_instance for the
// VIP, rm1 at priority 150, rm2 at 100, VRRPv2 with keepalived's default
// advert_int of 1 s. The planned move is what an operator does to the
// master: stop keepalived on rm1. It sends a priority-0 advertisement and
// drops the VIP; rm2 takes over after its skew time, (256-100)/256 s, and
// announces. That skew is the floor of this method's outage with these
// (common) settings; VRRPv3 with sub-second adverts would shorten it.
//
// keepalived runs only during its own trials: at start it removes the
// VIPs it manages and claims them once master, so it would fight the other
// methods. Each trial starts both daemons (untimed), waits until rm1 is
// master with the client talking to it, then times the stop on rm1. The
// move back stops rm2's keepalived and puts the VIP on rm1 by hand.
type keepalived struct {
	fb    *failoverBench
	procs map[string]*keepalivedProc // by namespace
}

type keepalivedProc struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

const keepalivedBin = "keepalived"

const keepalivedConfig = `global_defs {
  router_id %[1]s
}
vrrp_instance bench {
  state BACKUP
  interface %[2]s
  virtual_router_id 51
  priority %[3]d
  advert_int 1
  virtual_ipaddress {
    %[4]s dev %[2]s
  }
}
`

func (fb *failoverBench) newKeepalived() *keepalived {
	agenttest.RequireProgram(fb.b, keepalivedBin, "keepalived")
	k := &keepalived{fb: fb, procs: map[string]*keepalivedProc{}}
	fb.b.Cleanup(func() {
		for ns := range k.procs {
			k.stop(ns)
		}
	})
	return k
}

// setup starts keepalived on both nodes and returns once rm1 is master
// and the client gets answers from it.
func (k *keepalived) setup(trial int) error {
	lab := k.fb.lab
	if err := k.start(lab.RM1, 150, trial); err != nil {
		return err
	}
	if err := k.start(lab.RM2, 100, trial); err != nil {
		return err
	}
	if err := k.waitLog(lab.RM1.Name, "Entering MASTER STATE"); err != nil {
		return err
	}
	if err := k.waitLog(lab.RM2.Name, "Entering BACKUP STATE"); err != nil {
		return err
	}
	k.fb.waitClientOn(lab.RM1, fmt.Sprintf("keepalived trial %d: rm1 master", trial))
	// rm1's first announcements as master must be over, as after any move
	// back (see settle).
	time.Sleep(settle)
	return nil
}

// forward stops keepalived on rm1 and returns once rm2 holds the VIP and
// rm1 does not.
func (k *keepalived) forward(int) error {
	lab := k.fb.lab
	if err := k.stop(lab.RM1.Name); err != nil {
		return err
	}
	deadline := time.Now().Add(moveTimeout)
	for !lab.HasAddress(k.fb.b, lab.RM2.Name, viptest.VIP4) || lab.HasAddress(k.fb.b, lab.RM1.Name, viptest.VIP4) {
		if time.Now().After(deadline) {
			return fmt.Errorf("rm2's keepalived did not take the VIP within %s\n%s", moveTimeout, k.logOf(lab.RM2.Name))
		}
		time.Sleep(5 * time.Millisecond) // the measurement's resolution, as for vipagent's moves
	}
	return nil
}

// back stops rm2's keepalived, which drops the VIP, and brings the VIP up
// on rm1 with ip and arping, leaving the lab as the other methods expect.
func (k *keepalived) back(int) error {
	lab := k.fb.lab
	if err := k.stop(lab.RM2.Name); err != nil {
		return err
	}
	addr := viptest.VIP4.String()
	for _, argv := range [][]string{
		{"ip", "addr", "add", addr, "dev", viptest.Interface},
		{"arping", "-U", "-c1", "-I", viptest.Interface, viptest.VIP4.Addr().String()},
	} {
		if out, err := lab.Exec(lab.RM1.Name, argv...); err != nil {
			return fmt.Errorf("in %s: %w\n%s", lab.RM1.Name, err, out)
		}
	}
	return nil
}

func (k *keepalived) start(n viptest.Node, priority, trial int) error {
	name := strings.TrimPrefix(n.Name, k.fb.lab.Prefix)
	dir := filepath.Join(k.fb.dir, "keepalived-"+name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	conf := filepath.Join(dir, "keepalived.conf")
	body := fmt.Sprintf(keepalivedConfig, name, viptest.Interface, priority, viptest.VIP4)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return err
	}
	logPath := filepath.Join(dir, fmt.Sprintf("trial-%d.log", trial))
	log, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	// -n: stay in the foreground, so SIGTERM to this process stops it;
	// -P: VRRP only; its own pid files so the two never collide.
	cmd := exec.Command("ip", "netns", "exec", n.Name, keepalivedBin, "-n", "-l", "--no-syslog", "-P",
		"-f", conf, "-p", filepath.Join(dir, "keepalived.pid"), "-r", filepath.Join(dir, "vrrp.pid"))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start keepalived in %s: %w", n.Name, err)
	}
	p := &keepalivedProc{cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	k.procs[n.Name] = p
	return nil
}

// stop sends SIGTERM and waits for keepalived to exit (it announces
// priority 0 and removes its VIPs first), killing it after 10 s.
func (k *keepalived) stop(ns string) error {
	p, ok := k.procs[ns]
	if !ok {
		return nil
	}
	delete(k.procs, ns)
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("keepalived in %s did not stop within 10 s on SIGTERM", ns)
	}
}

// waitLog waits until keepalived's log in ns contains line.
func (k *keepalived) waitLog(ns, line string) error {
	p, ok := k.procs[ns]
	if !ok {
		return fmt.Errorf("keepalived is not running in %s", ns)
	}
	exited := false
	if agenttest.Poll(15*time.Second, func() bool {
		if strings.Contains(k.logOf(ns), line) {
			return true
		}
		select {
		case <-p.exited:
			exited = true
			return true
		default:
			return false
		}
	}) && !exited {
		return nil
	}
	if exited {
		return fmt.Errorf("keepalived in %s exited: %v\n%s", ns, p.cmd.ProcessState, k.logOf(ns))
	}
	return fmt.Errorf("keepalived in %s: no %q within 15 s\n%s", ns, line, k.logOf(ns))
}

func (k *keepalived) logOf(ns string) string {
	p, ok := k.procs[ns]
	if !ok {
		return ""
	}
	b, _ := os.ReadFile(p.log)
	return string(b)
}
