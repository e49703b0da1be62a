package rules

import (
	"github.com/vipagent/vipagent/reactions"
)

// Failover is what RM's failoverscript convention (`NLB.bat enable 2`,
// `IPTakeOver.bat disable 1`) needs to know of the pair.
type Failover struct {
	// Node is this node, the target when no member ID is given.
	Node string
	// Members maps RM member IDs (mymemberid) to node names.
	Members map[int]string
	// VIPs are the VIPs a failover moves, in order.
	VIPs []string
	// Force skips the duplicate-address guard of the enable steps.
	Force bool
}

// Plan maps a failover call ("enable 2": the VIP goes to member 2;
// "disable 1": member 1 lets it go; no member: this node) to steps.
func (f Failover) Plan(action string, member int) (reactions.Plan, error) {
	var act reactions.Action
	switch action {
	case "enable":
		act = reactions.ActionEnable
	case "disable":
		act = reactions.ActionDisable
	default:
		return reactions.Plan{}, reactions.Invalid("action: must be enable or disable")
	}
	node := f.Node
	if member != 0 {
		n, ok := f.Members[member]
		if !ok {
			return reactions.Plan{}, reactions.Invalid("member_id: no node has member_id %d (nodes.*.member_id)", member)
		}
		node = n
	}
	if len(f.VIPs) == 0 {
		return reactions.Plan{}, reactions.Invalid("no vips configured")
	}
	plan := reactions.Plan{Reaction: "failover-" + action}
	for _, v := range f.VIPs {
		plan.Steps = append(plan.Steps, reactions.Step{Action: act, VIP: v, Node: node, Force: f.Force && act == reactions.ActionEnable})
	}
	return plan, nil
}
