//go:build unix

package command

import (
	"os"
	"os/exec"
	"syscall"
)

// environ pins the C locale so that the output of ip, arping and friends
// reads the same on every host.
func environ(extra []string) []string {
	env := append(os.Environ(), "LC_ALL=C", "LANG=C")
	return append(env, extra...)
}

// processTree is the process group of the started program.
type processTree struct{ pgid int }

func startTree(cmd *exec.Cmd) (*processTree, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &processTree{pgid: cmd.Process.Pid}, nil
}

// kill sends SIGKILL to the whole group; an empty group is fine.
func (t *processTree) kill() { _ = syscall.Kill(-t.pgid, syscall.SIGKILL) }

func (t *processTree) close() {}

// decodeConsole returns b as it is: programs run with LC_ALL=C write ASCII,
// and what is not UTF-8 is left for JSON to mark.
func decodeConsole(b []byte) string { return string(b) }
