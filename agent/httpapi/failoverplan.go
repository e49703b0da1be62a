package httpapi

import (
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions"
)

// FailoverPlan is the plan the failover door makes of `failover ACTION
// MEMBER` under c, for the CLI's dry run: one pair model for both.
func FailoverPlan(c *config.Config, action string, member int) (reactions.Plan, error) {
	return failoverOf(c).Plan(action, member)
}
