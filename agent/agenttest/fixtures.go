package agenttest

import (
	"fmt"
	"strings"
)

// The configurations the tests start agents with. Each is a format for
// WriteConfig: its first verb is the listen address, its second the data
// directory. Tests that need a variant replace a line of one of them.

// SingleNode is one node, rm1, with two fake VIPs: rm-vip, present at
// start and removed by the alarm RM1_Stopped (or RM1_Unexpected_Stop),
// and slow-vip, whose steps take 150 ms, enabled then disabled by Flap.
const SingleNode = `
node: rm1
listen: %s
data_dir: %s
nodes:
  rm1: {member_id: 1, host: rm1, rm_application: RM_1}
vips:
  rm-vip:
    address: 192.0.2.100/24
    interface: eth0
    backend: fake
    options: {initial: present}
  slow-vip:
    address: 198.51.100.7/24
    interface: eth1
    backend: fake
    options: {delay: 150ms}
reactions:
  - name: rm1-stopped
    match: {condition: [RM1_Stopped, RM1_Unexpected_Stop]}
    steps: [{disable: rm-vip}]
  - name: flap
    match: {condition: Flap}
    steps: [{enable: slow-vip}, {disable: slow-vip}]
limits:
  supersede: false
log:
  format: json
`

// FakeVIPs is one node, rm1, with n fake VIPs v0, v1... (192.0.2.10 and
// up), each with options (a YAML flow map, or "" for none), enabled by the
// alarm On-vI and disabled by Off-vI; limits is the limits section (a YAML
// flow map). The agent logs JSON at warn.
func FakeVIPs(n int, options, limits string) string {
	var b strings.Builder
	b.WriteString("\nnode: rm1\nlisten: %s\ndata_dir: %s\nnodes:\n  rm1: {member_id: 1}\nvips:\n")
	if options != "" {
		options = ", options: " + options
	}
	for i := range n {
		fmt.Fprintf(&b, "  v%d: {address: 192.0.2.%d/24, interface: eth0, backend: fake%s}\n", i, 10+i, options)
	}
	b.WriteString("reactions:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: on-v%d, match: {condition: On-v%d}, steps: [{enable: v%d}]}\n", i, i, i)
		fmt.Fprintf(&b, "  - {name: off-v%d, match: {condition: Off-v%d}, steps: [{disable: v%d}]}\n", i, i, i)
	}
	fmt.Fprintf(&b, "limits: %s\nlog: {format: json, level: warn}\n", limits)
	return b.String()
}
