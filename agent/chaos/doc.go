// Package chaos is vipagent's fault lab, in the manner of Jepsen and
// Pacemaker's CTS: seeded random schedules of alarms, failovers, manual
// enables, replays and repeats against two real `vipagent serve` processes
// in the network-namespace lab, mixed with faults (SIGKILL and restart,
// SIGSTOP, a partition, a link down, packet loss, a slow, stalled or cut
// peer path through a small TCP proxy, a full disk under one journal).
// Each schedule is checked by invariants once things have settled, never
// by expected timings:
//
//	(a) exactly one node holds the VIP, one the schedule's intents allow,
//	    or none when they released it on both nodes (see expectedHolders
//	    for the rule);
//	(b) the client's neighbour entry points at that node, and it answers;
//	(c) every event on both journals is final, none ran twice, none that
//	    an operation was answered with is missing, and no peer acted after
//	    the deadline of the call it served;
//	(d) no agent crashed or failed to restart, each stops on SIGTERM, and
//	    no process, lock, mount or namespace is left behind;
//	(e) every CLI call returns within its --wait plus a margin;
//	(f) an alarm move or `failover enable X` that ran alone succeeded and
//	    left its target the only holder.
//
// It also measures, from a client probing the VIP every millisecond, the
// outage per fault kind.
//
// The VIP is on the netlink backend, or (-chaos.backend nlb|netsh) on a
// Windows backend against the Windows host model of
// reactions/vip/viptest/winhost, whose holders the lab mirrors onto the
// namespaces' interfaces; with -chaos.wine the agents and every command
// run as vipagent.exe under Wine.
//
// It is a test package only (files *_linux_test.go): run it with
// scripts/chaos.sh, which needs root. Under a plain `go test ./...`
// TestChaos skips at once and says why.
package chaos
