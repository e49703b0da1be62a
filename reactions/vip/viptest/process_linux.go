package viptest

import (
	"fmt"
	"os"
	"strings"
)

// processGone reports whether pid has exited: no longer listed, or a
// zombie, which is dead (a container's init may never reap it). state is
// what /proc shows of it otherwise.
func processGone(pid int) (gone bool, state string) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true, ""
	}
	// The state follows the parenthesised command name.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
		return true, ""
	}
	return false, string(stat)
}
