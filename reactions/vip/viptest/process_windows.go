package viptest

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// processGone reports whether pid has exited, through the Windows API: a
// PID that no process object has any more cannot be opened, and one whose
// object is still held open by someone (its parent, say) is signalled once
// it exited.
func processGone(pid int) (gone bool, state string) {
	h, err := windows.OpenProcess(windows.SYNCHRONIZE|windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return true, ""
	}
	defer windows.CloseHandle(h)
	ev, err := windows.WaitForSingleObject(h, 0)
	if err != nil {
		return false, fmt.Sprintf("wait: %v", err)
	}
	if ev == windows.WAIT_OBJECT_0 {
		return true, ""
	}
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return false, fmt.Sprintf("running (exit code: %v)", err)
	}
	return false, fmt.Sprintf("running (exit code %d, STILL_ACTIVE is 259)", code)
}
