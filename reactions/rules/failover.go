package rules

import (
	"github.com/vipagent/vipagent/reactions"
)

// Failover is what RM's failoverscript convention (`NLB.bat enable 2`,
// `IPTakeOver.bat disable 1`) needs to know of the pair.
type Failover struct {
	// Node is this node, the target when no member ID is given.
	Node string
	// Nodes are the pair's nodes, this one included.
	Nodes []string
	// Members maps RM member IDs (mymemberid) to node names.
	Members map[int]string
	// VIPs are the VIPs a failover moves, in order.
	VIPs []string
	// Force skips the duplicate-address guard of the enable steps.
	Force bool
}

// Plan maps a failover call to steps, with the NLB.bat calling convention:
//   - "enable X": member X becomes the only holder: every other node of
//     the pair releases the VIPs first (through its agent when it is not
//     this node; always tried), then X enables them under vip_released, so
//     a node that could not be reached is tolerated only when the enable's
//     duplicate-address probe finds nobody answering. No member: this node.
//   - "disable [X]": this host releases the VIPs, as INIT.bat and
//     INIT_IPTakeOver.bat do per host; X, if given, is journaled only.
func (f Failover) Plan(action string, member int) (reactions.Plan, error) {
	if action != "enable" && action != "disable" {
		return reactions.Plan{}, reactions.Invalid("action: must be enable or disable")
	}
	target := f.Node
	if member != 0 {
		n, ok := f.Members[member]
		if !ok {
			return reactions.Plan{}, reactions.Invalid("member_id: no node has member_id %d (nodes.*.member_id)", member)
		}
		target = n
	}
	if len(f.VIPs) == 0 {
		return reactions.Plan{}, reactions.Invalid("no vips configured")
	}
	plan := reactions.Plan{Reaction: "failover-" + action}
	if action == "disable" {
		for _, v := range f.VIPs {
			plan.Steps = append(plan.Steps, reactions.Step{Action: reactions.ActionDisable, VIP: v, Node: f.Node})
		}
		return plan, nil
	}
	always := []reactions.Condition{reactions.WhenAlways}
	for _, v := range f.VIPs {
		for _, n := range f.Nodes {
			if n != target {
				plan.Steps = append(plan.Steps, reactions.Step{Action: reactions.ActionDisable, VIP: v, Node: n, When: always})
			}
		}
		plan.Steps = append(plan.Steps, reactions.Step{Action: reactions.ActionEnable, VIP: v, Node: target, Force: f.Force,
			When: []reactions.Condition{reactions.WhenReleased}})
	}
	return plan, nil
}
