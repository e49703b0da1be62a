package engine

import "github.com/vipagent/vipagent/reactions/rules"

// SetRules replaces the reaction rules (a configuration reload). An event
// already planned keeps its plan; events planned from now on use rs.
func (e *Engine) SetRules(rs rules.Rules) { e.reloaded.Store(&rs) }

// rules are the rules events are planned with now.
func (e *Engine) rules() rules.Rules {
	if p := e.reloaded.Load(); p != nil {
		return *p
	}
	return e.cfg.Rules
}
