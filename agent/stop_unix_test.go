//go:build unix

package agent_test

import (
	"os/exec"
	"syscall"
)

// gracefulStop: SIGTERM stops the agent gracefully (exit 0).
const gracefulStop = true

// stop asks the agent to stop gracefully and waits for it.
func stop(cmd *exec.Cmd) error {
	cmd.Process.Signal(syscall.SIGTERM)
	return cmd.Wait()
}
