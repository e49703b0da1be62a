//go:build windows

package command

import (
	"os"
	"os/exec"
)

func environ(extra []string) []string { return append(os.Environ(), extra...) }

// processTree is replaced by a job object implementation; until then only
// the direct child is killed.
type processTree struct{ cmd *exec.Cmd }

func startTree(cmd *exec.Cmd) (*processTree, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &processTree{cmd: cmd}, nil
}

func (t *processTree) kill() {
	if t.cmd.ProcessState == nil {
		_ = t.cmd.Process.Kill()
	}
}

func (t *processTree) close() {}
