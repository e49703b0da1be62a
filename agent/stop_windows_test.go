package agent_test

import "github.com/vipagent/vipagent/agent/agenttest"

// gracefulStop: a child process without a console of its own cannot be sent
// a console control event (and Wine cannot deliver one at all), so on
// Windows the tests stop the agent as LCA stops a Third Party Server:
// TerminateProcess. Nothing accepted may be lost by that either.
const gracefulStop = false

// stop terminates the agent and waits for it.
func stop(a *agenttest.Agent) error {
	a.Cmd.Process.Kill()
	return a.Wait()
}
