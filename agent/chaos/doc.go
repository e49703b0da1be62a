// Package chaos is vipagent's fault lab, in the manner of Jepsen and
// Pacemaker's CTS: seeded random schedules of alarms, failovers, manual
// enables, replays and faults (SIGKILL, SIGSTOP, partitions, packet loss,
// a slow or stalled peer path, a full disk) against two real `vipagent
// serve` processes in the network-namespace lab, each schedule checked by
// invariants once things have settled, not by expected timings.
//
// It is a test package only (chaos_linux_test.go and its siblings): run it
// with scripts/chaos.sh, which needs root. Under a plain `go test ./...`
// TestChaos skips at once and says why.
package chaos
