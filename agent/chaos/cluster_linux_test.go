package chaos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

const (
	apiPort   = "8470"
	proxyPort = "8471"
	vipName   = "rm-vip"
	// reconcileEvery is the agents' reconcile schedule. Settling waits at
	// least one reconcile interval plus two steps' timeouts.
	reconcileEvery = time.Second
	// tmpfsSize is the size of the tmpfs under one node's journal, the
	// full-disk fault's target.
	tmpfsSize = "16m"
)

// vipTimeout is the VIP's own timeout (each step's bound): longer under
// Wine, where every program start takes a while.
var vipTimeout = 3 * time.Second

// agentConfig is one node's configuration. Peers are reached through the
// proxy on loopback in the node's own namespace.
const agentConfig = `
node: %[1]s
listen: %[2]s:` + apiPort + `
insecure: true        # the lab's bridge is private to the test
data_dir: %[3]s
step_timeout: %[9]s
auth:
  tokens: [{name: chaos, role: admin, token: %[4]s}]
limits:
  rate_per_minute: 0  # the harness polls; rate limits are tested elsewhere
  shutdown_grace: 5s
nodes:
  %[1]s: {url: "http://%[2]s:` + apiPort + `", token: %[4]s, member_id: %[5]d}
  %[6]s: {url: "http://127.0.0.1:` + proxyPort + `", token: %[4]s, member_id: %[7]d}
schedules:
  reconcile: "@every 1s"
vips:
  rm-vip:
    address: 192.0.2.100/24
    interface: vip0
    %[8]s
    owner: rm1
    auto_fix: true
    timeout: %[10]s
reactions:
  - name: rm1-stopped
    match: {condition: [RM1_Stopped, RM1_Unexpected_Stop]}
    steps:
      - {disable: rm-vip, on: rm1}
      - {enable: rm-vip, on: rm2, when: [vip_released]}
  - name: rm2-stopped
    match: {condition: [RM2_Stopped, RM2_Unexpected_Stop]}
    steps:
      - {disable: rm-vip, on: rm2}
      - {enable: rm-vip, on: rm1, when: [vip_released]}
log: {format: json, level: info}
`

// node is one member of the pair: its namespace, its agent, its files.
type node struct {
	name   string // rm1 or rm2
	peer   string
	member int
	lab    viptest.Node
	ip     string
	cfg    string
	data   string
	log    *os.File

	mu      sync.Mutex
	proc    *exec.Cmd
	exited  chan struct{}
	stopped bool // SIGSTOPped
	// ending is set when the harness kills or stops the agent; an exit
	// without it is a crash, recorded in crashes.
	ending  bool
	crashes []string
}

func (n *node) url() string { return "http://" + net.JoinHostPort(n.ip, apiPort) }

// cluster is one schedule's world: the lab, two agents, the proxies, the
// echo servers and the client's prober.
type cluster struct {
	t       *testing.T
	bin     string
	lab     *viptest.Lab
	dir     string
	token   string
	nodes   map[string]*node
	proxies map[string]*proxy // by the node whose peer calls it carries
	echoes  []*agenttest.Echo
	probe   *agenttest.Prober
	http    *http.Client
	// tmpfsNode's data dir is a small tmpfs at tmpfs.
	tmpfsNode string
	tmpfs     string
	// win is the Windows host model the VIP's backend runs against, nil
	// on the netlink backend.
	win *winLab
	// wine is vipagent.exe when the agents run under Wine: then every
	// path the agents see is given in Windows form (see path).
	wine string
}

// wineEnv is the environment of programs under Wine in namespace ns (a
// node's name, or "client"): Wine creates sockets in its wineserver, so
// each namespace has a Wine prefix of its own (made by scripts/chaos.sh),
// whose server runs in that namespace.
func (c *cluster) wineEnv(ns string) []string {
	return append(os.Environ(), "LC_ALL=C", "WINEPREFIX="+filepath.Join(filepath.Dir(c.wine), "prefix-"+ns))
}

// killWineservers ends the wineservers of both nodes and the client,
// which live in the schedule's namespaces.
func (c *cluster) killWineservers() {
	for _, ns := range []string{"rm1", "rm2", "client"} {
		cmd := exec.Command("wineserver", "-k")
		cmd.Env = c.wineEnv(ns)
		cmd.Run()
	}
}

// path is p as the agents see it: under Wine, on drive Z:.
func (c *cluster) path(p string) string {
	if c.wine == "" {
		return p
	}
	return winPath(p)
}

// newCluster builds the lab and starts everything but the agents; every
// part is removed when the (sub)test ends.
func newCluster(t *testing.T, bin, tmpfsNode string, opts labOptions, seed uint64) *cluster {
	lab := viptest.Up(t)
	tok := make([]byte, 16)
	rand.Read(tok)
	c := &cluster{
		t: t, bin: bin, lab: lab, dir: t.TempDir(), token: hex.EncodeToString(tok),
		nodes: map[string]*node{}, proxies: map[string]*proxy{}, tmpfsNode: tmpfsNode, wine: opts.wineExe(),
	}
	c.nodes["rm1"] = &node{name: "rm1", peer: "rm2", member: 1, lab: lab.RM1, ip: lab.RM1.Addr4.Addr().String()}
	c.nodes["rm2"] = &node{name: "rm2", peer: "rm1", member: 2, lab: lab.RM2, ip: lab.RM2.Addr4.Addr().String()}
	if windows(opts.backend) {
		c.win = newWinLab(t, opts.winfake, opts.backend, c.dir, seed, opts.scale, c.path)
		c.win.mirror(lab, c.nodes)
		t.Cleanup(func() { c.win.Close() })
	}

	// The harness reaches the agents from the client's namespace, as SCS
	// would from the network.
	clientNS := lab.Namespace(t, lab.Client.Name)
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	c.http = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var conn net.Conn
			err := viptest.RunIn(clientNS, func() error {
				var err error
				conn, err = dialer.DialContext(ctx, network, addr)
				return err
			})
			return conn, err
		},
	}}

	for _, name := range []string{"rm1", "rm2"} {
		n := c.nodes[name]
		n.data = filepath.Join(c.dir, name, "data")
		if err := os.MkdirAll(n.data, 0o700); err != nil {
			t.Fatal(err)
		}
		if name == tmpfsNode {
			c.tmpfs = n.data
			c.mountTmpfs()
		}
		n.cfg = filepath.Join(c.dir, name, "vipagent.yaml")
		peer := c.nodes[n.peer]
		backend := "backend: netlink"
		if c.win != nil {
			backend = c.win.configFor(name)
		}
		body := fmt.Sprintf(agentConfig, name, n.ip, c.path(n.data), c.token, n.member, peer.name, peer.member, backend, stepTimeout, vipTimeout)
		if err := os.WriteFile(n.cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		log, err := os.Create(filepath.Join(c.dir, name, "agent.log"))
		if err != nil {
			t.Fatal(err)
		}
		n.log = log
		t.Cleanup(func() { log.Close() })

		ns := lab.Namespace(t, n.lab.Name)
		p, err := startProxy(name+"->"+peer.name, ns, "127.0.0.1:"+proxyPort, net.JoinHostPort(peer.ip, apiPort))
		if err != nil {
			t.Fatalf("proxy in %s: %v", name, err)
		}
		c.proxies[name] = p
		t.Cleanup(p.Close)
		e, err := startEcho(ns, name)
		if err != nil {
			t.Fatalf("echo server in %s: %v", name, err)
		}
		c.echoes = append(c.echoes, e)
		t.Cleanup(e.Close)
	}
	p, err := startProber(clientNS, lab.Client.Addr4.Addr().AsSlice(), viptest.VIP4.Addr().AsSlice())
	if err != nil {
		t.Fatalf("prober: %v", err)
	}
	c.probe = p
	t.Cleanup(p.Close)
	return c
}

func (c *cluster) mountTmpfs() {
	if out, err := run(10*time.Second, "mount", "-t", "tmpfs", "-o", "size="+tmpfsSize+",mode=0700", "tmpfs", c.tmpfs); err != nil {
		c.t.Fatalf("mount tmpfs: %v\n%s", err, out)
	}
	// Registered after t.TempDir, so it runs before the directory is removed.
	c.t.Cleanup(func() {
		if mounted(c.tmpfs) {
			if out, err := run(10*time.Second, "umount", c.tmpfs); err != nil {
				c.t.Errorf("umount %s: %v\n%s", c.tmpfs, err, out)
			}
		}
	})
}

// mounted reports whether dir is a mount point (in /proc/self/mounts).
func mounted(dir string) bool {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == dir {
			return true
		}
	}
	return false
}

// run runs argv in the root namespace, bounded by within.
func run(within time.Duration, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// start starts n's agent and waits until it is ready. A restart can race
// an in-process `vipagent failover` that holds the journal for a moment
// (the CLI's fallback while the agent was down): it is retried, boundedly.
func (c *cluster) start(n *node) error {
	var last error
	for attempt := 0; attempt < 10; attempt++ {
		if attempt > 0 {
			// A pause between attempts: the journal's holder is another
			// process, which says nothing when it lets go.
			time.Sleep(300 * time.Millisecond)
		}
		if last = c.startOnce(n); last == nil {
			return nil
		}
	}
	return last
}

func (c *cluster) startOnce(n *node) error {
	cmd := exec.Command("ip", "netns", "exec", n.lab.Name, c.bin, "serve", "--config", n.cfg)
	if c.wine != "" {
		cmd = exec.Command("ip", "netns", "exec", n.lab.Name, "wine", c.wine, "serve", "--config", c.path(n.cfg))
		cmd.Env = c.wineEnv(n.name)
	}
	cmd.Stdout, cmd.Stderr = n.log, n.log
	// `ip netns exec` execs the agent in place: the agent is the child,
	// and it dies with the harness even if no cleanup runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	n.mu.Lock()
	n.proc, n.exited, n.stopped, n.ending = cmd, exited, false, false
	n.mu.Unlock()
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		if !n.ending {
			n.crashes = append(n.crashes, fmt.Sprintf("%s: %v", time.Now().Format("15:04:05.000"), err))
		}
		n.mu.Unlock()
		close(exited)
	}()
	ready := 10 * time.Second
	if c.wine != "" {
		ready = 30 * time.Second
	}
	gone := false
	var err error
	if agenttest.Poll(ready, func() bool {
		select {
		case <-exited:
			gone = true
			return true
		default:
		}
		var resp *http.Response
		if resp, err = c.http.Get(n.url() + "/readyz"); err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		err = errors.New(resp.Status)
		return resp.StatusCode == http.StatusOK
	}) && !gone {
		return nil
	}
	if gone {
		return fmt.Errorf("agent %s exited at start: %v; its log ends: %s", n.name, cmd.ProcessState, logTail(n.log.Name(), 600))
	}
	c.kill(n)
	return fmt.Errorf("agent %s not ready within %s: %v", n.name, ready, err)
}

// running reports whether n's agent process is alive.
func (n *node) running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return false
	}
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// signal sends sig to n's agent if it runs.
func (n *node) signal(sig syscall.Signal) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return
	}
	select {
	case <-n.exited:
	default:
		n.proc.Process.Signal(sig)
		switch sig {
		case syscall.SIGKILL, syscall.SIGTERM:
			n.ending = true
		case syscall.SIGSTOP:
			n.stopped = true
		case syscall.SIGCONT:
			n.stopped = false
		}
	}
}

// kill SIGKILLs n's agent and waits for it (bounded: a SIGKILLed process
// always goes).
func (c *cluster) kill(n *node) {
	n.signal(syscall.SIGKILL)
	n.mu.Lock()
	exited := n.exited
	n.mu.Unlock()
	if exited == nil {
		return
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		c.t.Errorf("agent %s did not exit 10s after SIGKILL", n.name)
	}
}

// stop ends n's agent: SIGCONT (it may be frozen), SIGTERM, and SIGKILL
// after its shutdown grace. It reports whether SIGTERM sufficed.
func (c *cluster) stop(n *node) bool {
	n.signal(syscall.SIGCONT)
	n.signal(syscall.SIGTERM)
	n.mu.Lock()
	exited := n.exited
	n.mu.Unlock()
	if exited == nil {
		return true
	}
	select {
	case <-exited:
		return true
	case <-time.After(10 * time.Second):
		c.kill(n)
		return false
	}
}

// getJSON GETs path from n's agent into dst.
func (c *cluster) getJSON(n *node, path string, dst any) error {
	req, err := http.NewRequest(http.MethodGet, n.url()+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s on %s: %s: %s", path, n.name, resp.Status, strings.TrimSpace(string(body)))
	}
	return json.Unmarshal(body, dst)
}

// events is n's journal as GET /v1/events shows it.
func (c *cluster) events(n *node) ([]reactions.Event, error) {
	var l struct {
		Events []reactions.Event `json:"events"`
	}
	err := c.getJSON(n, "/v1/events?limit=1000", &l)
	return l.Events, err
}

// holders lists the nodes that have the VIP on their interface; a node
// that cannot be looked at fails the test.
func (c *cluster) holders() []string {
	hs, err := c.observeHolders()
	if err != nil {
		c.t.Fatal(err)
	}
	return hs
}

// observeHolders lists the nodes that have the VIP on their interface
// (safe from any goroutine).
func (c *cluster) observeHolders() ([]string, error) {
	if c.win != nil {
		// The model is the hosts' truth; the lab's interfaces mirror it.
		return c.win.holders()
	}
	var hs []string
	for _, name := range []string{"rm1", "rm2"} {
		out, err := c.lab.Exec(c.nodes[name].lab.Name, "ip", "-o", "addr", "show", "dev", viptest.Interface)
		if err != nil {
			return nil, err
		}
		if strings.Contains(out, " "+viptest.VIP4.String()+" ") {
			hs = append(hs, name)
		}
	}
	return hs, nil
}

// macNode names the node whose MAC is mac ("" for none, "?" for another).
func (c *cluster) macNode(mac string) string {
	if mac == "" {
		return ""
	}
	for name, n := range c.nodes {
		if n.lab.MAC.String() == mac {
			return name
		}
	}
	return "?" + mac
}
