package agent

import (
	"maps"
	"slices"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/rules"
)

// Rules turns the configured reactions into the engine's rules.
func Rules(c *config.Config) rules.Rules {
	var rs rules.Rules
	for _, r := range c.Reactions {
		rule := rules.Rule{Name: r.Name, Match: rules.Match{
			Condition: r.Match.Condition, EventID: r.Match.EventID, Application: r.Match.Application,
			Host: r.Match.Host, Severity: r.Match.Severity,
		}}
		if len(r.Match.Labels) > 0 {
			rule.Match.Labels = map[string][]string{}
			for k, v := range r.Match.Labels {
				rule.Match.Labels[k] = v
			}
		}
		for _, s := range r.Steps {
			step := reactions.Step{Node: s.On, Force: s.Force, Timeout: s.Timeout.D()}
			switch {
			case s.Enable != "":
				step.Action, step.VIP = reactions.ActionEnable, s.Enable
			case s.Disable != "":
				step.Action, step.VIP = reactions.ActionDisable, s.Disable
			default:
				step.Action, step.Command = reactions.ActionRun, s.Run
			}
			if step.Node == "" {
				step.Node = c.Node
			}
			for _, w := range s.When {
				step.When = append(step.When, reactions.Condition(w))
			}
			rule.Steps = append(rule.Steps, step)
		}
		rs = append(rs, rule)
	}
	return rs
}

// Failover is the pair as RM's failoverscript convention sees it: member
// IDs to nodes, and the VIPs `failover` moves.
func Failover(c *config.Config) rules.Failover {
	f := rules.Failover{Node: c.Node, Nodes: slices.Sorted(maps.Keys(c.Nodes)), Members: map[int]string{}, VIPs: c.Failover.VIPs, Force: c.Failover.Force}
	for name, n := range c.Nodes {
		if n.MemberID != 0 {
			f.Members[n.MemberID] = name
		}
	}
	if len(f.VIPs) == 0 {
		f.VIPs = slices.Sorted(maps.Keys(c.VIPs))
	}
	return f
}

// admitCallback refuses an event whose alarm asks for its result at a
// callback_url outside callback_hosts, before it is journaled.
func admitCallback(c *config.Config) func(*reactions.Event) error {
	hosts := c.CallbackHosts
	return func(ev *reactions.Event) error {
		return reactions.CheckCallback(ev.Alarm.CallbackURL, hosts)
	}
}
