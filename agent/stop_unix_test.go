//go:build unix

package agent_test

import (
	"syscall"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// gracefulStop: SIGTERM stops the agent gracefully (exit 0).
const gracefulStop = true

// stop asks the agent to stop gracefully and waits for it.
func stop(a *agenttest.Agent) error {
	a.Cmd.Process.Signal(syscall.SIGTERM)
	return a.Wait()
}
