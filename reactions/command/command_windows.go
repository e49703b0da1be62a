//go:build windows

package command

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"unicode/utf16"
	"unsafe"

	"golang.org/x/sys/windows"
)

// environ passes the agent's environment on unchanged: Windows programs
// take their language from the user's UI settings, not from variables,
// which is why the backends never parse their output.
func environ(extra []string) []string { return append(os.Environ(), extra...) }

// getOEMCP is kernel32's GetOEMCP, which x/sys/windows does not wrap.
var getOEMCP = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetOEMCP")

// decodeConsole reads b in the OEM code page (437, 850, 866...): the code
// page of the console a program started with CREATE_NO_WINDOW gets, in
// which netsh, nlb.exe and cmd.exe write their localised messages into a
// pipe. Should the conversion fail, b is returned as it is.
func decodeConsole(b []byte) string {
	cp, _, _ := getOEMCP.Call()
	n, err := windows.MultiByteToWideChar(uint32(cp), 0, &b[0], int32(len(b)), nil, 0)
	if err != nil || n <= 0 {
		return string(b)
	}
	u := make([]uint16, n)
	if n, err = windows.MultiByteToWideChar(uint32(cp), 0, &b[0], int32(len(b)), &u[0], n); err != nil || n <= 0 {
		return string(b)
	}
	return string(utf16.Decode(u[:n]))
}

// processTree is a job object holding the started program and everything
// it starts (a .bat's children, netsh's helpers). Killing the job kills
// them all; closing the last handle kills whatever is left, so nothing
// outlives the agent either (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE).
type processTree struct {
	job windows.Handle
}

// startTree starts cmd suspended, puts it into a new job object and only
// then lets its main thread run, so that not even its first child can be
// created outside the job. CREATE_NO_WINDOW keeps console programs from
// opening a window: LCA starts the agent without a console, and a console
// child would otherwise get a fresh one.
func startTree(cmd *exec.Cmd) (*processTree, error) {
	job, err := newKillOnCloseJob()
	if err != nil {
		return nil, err
	}
	if err := batchThroughCmdExe(cmd); err != nil {
		windows.CloseHandle(job)
		return nil, err
	}
	attr := &syscall.SysProcAttr{CreationFlags: windows.CREATE_SUSPENDED | windows.CREATE_NO_WINDOW}
	if IsCmdExe(cmd.Path) || IsCmdExe(cmd.Args[0]) {
		line, err := cmdExeLine(cmd.Args)
		if err != nil {
			windows.CloseHandle(job)
			return nil, err
		}
		attr.CmdLine = line
	}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		windows.CloseHandle(job)
		return nil, err
	}
	if err := adoptAndResume(job, uint32(cmd.Process.Pid)); err != nil {
		// The process never ran a single instruction: end it and reap it,
		// since Run does not wait after a failed start.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		windows.CloseHandle(job)
		return nil, err
	}
	return &processTree{job: job}, nil
}

// batchThroughCmdExe rewrites a cmd whose program is a batch file into
// [cmd.exe /d /s /c script args...], so that cmdExeCommandLine quotes and
// checks its arguments: CreateProcess would otherwise pass the command line
// Go built for the C runtime to cmd.exe itself. The program is resolved as
// Start would (Dir for a relative path, PATHEXT for a missing extension)
// before it is looked at.
func batchThroughCmdExe(cmd *exec.Cmd) error {
	if cmd.Err != nil || IsCmdExe(cmd.Path) || IsCmdExe(cmd.Args[0]) {
		return nil
	}
	path := cmd.Path
	if !filepath.IsAbs(path) && cmd.Dir != "" && filepath.Base(path) != path {
		path = filepath.Join(cmd.Dir, path)
	}
	if lp, err := exec.LookPath(path); err == nil {
		path = lp
	}
	if !IsBatch(path) {
		return nil
	}
	sysdir, err := windows.GetSystemDirectory()
	if err != nil {
		return fmt.Errorf("find the system directory for cmd.exe: %w", err)
	}
	cmd.Path = filepath.Join(sysdir, "cmd.exe")
	cmd.Args = batchArgv(cmd.Path, path, cmd.Args[1:])
	return nil
}

func newKillOnCloseJob() (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, fmt.Errorf("create job object: %w", err)
	}
	var info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return 0, fmt.Errorf("set job object limits: %w", err)
	}
	return job, nil
}

// adoptAndResume assigns the suspended process to job and resumes its only
// thread. os.Process does not expose the thread handle CreateProcess
// returned, so the thread is found with a Toolhelp snapshot: a process
// created suspended has exactly one.
func adoptAndResume(job windows.Handle, pid uint32) error {
	proc, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, pid)
	if err != nil {
		return fmt.Errorf("open process %d: %w", pid, err)
	}
	defer windows.CloseHandle(proc)
	if err := windows.AssignProcessToJobObject(job, proc); err != nil {
		return fmt.Errorf("assign process %d to its job object: %w", pid, err)
	}
	tid, err := mainThread(pid)
	if err != nil {
		return err
	}
	th, err := windows.OpenThread(windows.THREAD_SUSPEND_RESUME, false, tid)
	if err != nil {
		return fmt.Errorf("open thread %d of process %d: %w", tid, pid, err)
	}
	defer windows.CloseHandle(th)
	if _, err := windows.ResumeThread(th); err != nil {
		return fmt.Errorf("resume process %d: %w", pid, err)
	}
	return nil
}

func mainThread(pid uint32) (uint32, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPTHREAD, 0)
	if err != nil {
		return 0, fmt.Errorf("snapshot threads: %w", err)
	}
	defer windows.CloseHandle(snap)
	var te windows.ThreadEntry32
	te.Size = uint32(unsafe.Sizeof(te))
	for err = windows.Thread32First(snap, &te); err == nil; err = windows.Thread32Next(snap, &te) {
		if te.OwnerProcessID == pid {
			return te.ThreadID, nil
		}
	}
	if errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return 0, fmt.Errorf("process %d has no thread to resume", pid)
	}
	return 0, fmt.Errorf("list threads: %w", err)
}

// kill ends every process in the job; an empty job is fine.
func (t *processTree) kill() { _ = windows.TerminateJobObject(t.job, 1) }

// close releases the job; with KILL_ON_JOB_CLOSE that also ends anything
// kill did not reach.
func (t *processTree) close() { _ = windows.CloseHandle(t.job) }
