package agent_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

const pairToken = "peer-token-0123456789abcdef"

const pairConfig = `
node: %[1]s
listen: %[2]s:8470
insecure: true          # the lab's bridge is private to this test
data_dir: %[3]s
auth:
  tokens: [{name: peer, role: admin, token: "` + pairToken + `"}]
nodes:
  rm1: {url: "http://%[4]s:8470", token: "` + pairToken + `", member_id: 1}
  rm2: {url: "http://%[5]s:8470", token: "` + pairToken + `", member_id: 2}
vips:
  rm-vip:
    address: 192.0.2.100/24
    interface: vip0
    backend: netlink
    timeout: 5s
reactions:
  - name: rm1-unexpected-stop
    match: {condition: RM1_Unexpected_Stop}
    steps:
      - {disable: rm-vip, on: rm1}
      - {enable: rm-vip, on: rm2, when: [vip_released]}
  - name: rm2-unexpected-stop
    match: {condition: RM2_Unexpected_Stop}
    steps:
      - {disable: rm-vip, on: rm2}
      - {enable: rm-vip, on: rm1, when: [vip_released]}
log: {format: json, level: info}
`

// echoIn answers the client's probes in namespace ns as node.
func echoIn(t *testing.T, lab *viptest.Lab, ns, node string) {
	t.Helper()
	var c *net.UDPConn
	if err := viptest.RunIn(lab.Namespace(t, ns), func() (err error) {
		c, err = net.ListenUDP("udp4", &net.UDPAddr{Port: 9999})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e := agenttest.StartEcho(c, node)
	t.Cleanup(e.Close)
}

// Two real agents, one in rm1's namespace and one in rm2's, move a real VIP
// while a client in a third namespace keeps sending UDP to it.
func TestTwoAgentsMoveVIPInNamespaces(t *testing.T) {
	viptest.RequireRoot(t)
	lab := viptest.Up(t)
	dir := t.TempDir()
	ip1, ip2 := lab.RM1.Addr4.Addr().String(), lab.RM2.Addr4.Addr().String()
	start := func(node viptest.Node, name, listen string) (*exec.Cmd, *bytes.Buffer) {
		cfg := filepath.Join(dir, name+".yaml")
		body := fmt.Sprintf(pairConfig, name, listen, filepath.Join(dir, name), ip1, ip2)
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("ip", "netns", "exec", node.Name, binary, "serve", "--config", cfg)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
			if t.Failed() {
				t.Logf("%s log:\n%s", name, stderr.String())
			}
		})
		return cmd, &stderr
	}
	start(lab.RM1, "rm1", ip1)
	start(lab.RM2, "rm2", ip2)
	// A command talks only to the agent of its config: each node's.
	cfgOf := map[string]string{ip1: filepath.Join(dir, "rm1.yaml"), ip2: filepath.Join(dir, "rm2.yaml")}
	// The client talks to the agents from its own namespace, as SCS would
	// from the network.
	cli := func(args ...string) (string, error) {
		return lab.Exec(lab.Client.Name, append([]string{binary}, args...)...)
	}
	for _, ip := range []string{ip1, ip2} {
		agenttest.Eventually(t, 10*time.Second, func() bool {
			_, err := lab.Exec(lab.Client.Name, binary, "vip", "status", "--config", cfgOf[ip], "--agent", "http://"+ip+":8470", "--token", pairToken)
			return err == nil
		}, "the agent at %s does not answer the client", ip)
	}
	// The VIP starts on rm1, enabled by hand through rm1's agent.
	if out, err := cli("vip", "enable", "rm-vip", "--config", cfgOf[ip1], "--agent", "http://"+ip1+":8470", "--token", pairToken); err != nil {
		t.Fatalf("enable on rm1: %v\n%s", err, out)
	}
	vip := viptest.VIP4
	if !lab.HasAddress(t, lab.RM1.Name, vip) || lab.HasAddress(t, lab.RM2.Name, vip) {
		t.Fatalf("VIP not on rm1 only: rm1 %v rm2 %v", lab.Addresses(t, lab.RM1.Name), lab.Addresses(t, lab.RM2.Name))
	}

	// The client probes the VIP every millisecond; each node's echo
	// answers with its name, so the client sees who holds it.
	echoIn(t, lab, lab.RM1.Name, "rm1")
	echoIn(t, lab, lab.RM2.Name, "rm2")
	var client *net.UDPConn
	if err := viptest.RunIn(lab.Namespace(t, lab.Client.Name), func() (err error) {
		client, err = net.ListenUDP("udp4", &net.UDPAddr{IP: lab.Client.Addr4.Addr().AsSlice()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	probe := agenttest.StartProber(client, &net.UDPAddr{IP: vip.Addr().AsSlice(), Port: 9999}, time.Millisecond)
	defer probe.Close()
	agenttest.Eventually(t, 5*time.Second, func() bool { return probe.CountFrom("rm1") > 20 }, "the client's probes are not answered by rm1")

	move := func(condition, agentIP string, from, to viptest.Node, toName string) {
		t.Helper()
		out, err := cli("fire", "--condition", condition, "--config", cfgOf[agentIP], "--agent", "http://"+agentIP+":8470", "--token", pairToken, "--json")
		if err != nil {
			t.Fatalf("fire %s at %s: %v\n%s", condition, agentIP, err, out)
		}
		var res reactions.Result
		if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &res); err != nil {
			t.Fatalf("result: %v\n%s", err, out)
		}
		if res.Status != reactions.StatusSucceeded || len(res.Steps) != 2 ||
			res.Steps[0].Outcome != reactions.OutcomeChanged || res.Steps[1].Outcome != reactions.OutcomeChanged {
			t.Fatalf("move %s: %+v", condition, res)
		}
		if !lab.HasAddress(t, to.Name, vip) || lab.HasAddress(t, from.Name, vip) {
			t.Errorf("after %s: VIP on %s %v, on %s %v", condition, from.Name, lab.Addresses(t, from.Name), to.Name, lab.Addresses(t, to.Name))
		}
		// The client's probes now reach the new holder, which answers.
		before := probe.CountFrom(toName)
		agenttest.Eventually(t, 3*time.Second, func() bool { return probe.CountFrom(toName) > before+20 }, "after %s the client's probes are not answered by %s", condition, toName)
		if mac := lab.NeighbourMAC(t, lab.Client.Name, vip.Addr()); mac != to.MAC.String() {
			t.Errorf("client's neighbour entry for the VIP is %s, want %s", mac, to.MAC)
		}
	}
	// rm1's RM dies: the alarm reaches rm2's agent, which has rm1's agent
	// remove the VIP (peer call) and then takes it.
	move("RM1_Unexpected_Stop", ip2, lab.RM1, lab.RM2, "rm2")
	// And back.
	move("RM2_Unexpected_Stop", ip1, lab.RM2, lab.RM1, "rm1")

	// Both journals hold the steps: the caller's event with both steps,
	// the peer's event for the step it carried out.
	for _, name := range []string{"rm1", "rm2"} {
		ip := map[string]string{"rm1": ip1, "rm2": ip2}[name]
		out, err := cli("events", "list", "--json", "--config", cfgOf[ip], "--agent", "http://"+ip+":8470", "--token", pairToken)
		if err != nil {
			t.Fatalf("events on %s: %v\n%s", name, err, out)
		}
		var l struct{ Events []reactions.Event }
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			t.Fatal(err)
		}
		sources := map[reactions.Source]int{}
		for _, ev := range l.Events {
			sources[ev.Source]++
		}
		// rm1: its manual enable, the peer step of the first move, its own
		// second move; rm2 the mirror image.
		if sources[reactions.SourcePeer] != 1 || sources[reactions.SourceCLI] != 1 {
			t.Errorf("%s journal sources %v", name, sources)
		}
	}
}
