//go:build unix && !linux

package viptest

import "syscall"

// processGone reports whether pid has exited: signal 0 finds no process.
// (A zombie still counts as alive here; the tests that kill trees run on
// Linux and Windows.)
func processGone(pid int) (gone bool, state string) {
	if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
		return true, ""
	}
	return false, "answers signal 0"
}
