// Package rules turns an alarm into a plan: the first rule whose match
// fits the alarm wins, and its steps become the plan. First-match (as in a
// firewall) keeps the outcome of one alarm easy to predict from reading the
// config top to bottom; put specific rules before general ones.
package rules

import (
	"github.com/vipagent/vipagent/reactions"
)

// Rule is one reaction rule.
type Rule struct {
	Name  string
	Match Match
	Steps []reactions.Step
}

// Match selects alarms. Every non-empty field must match; a field matches
// when any of its values does. Values may use * and ? wildcards.
type Match struct {
	Condition   []string
	EventID     []string
	Application []string
	Host        []string
	Severity    []string
	// Labels must all be present with a matching value.
	Labels map[string][]string
}

// Rules is an ordered rule list.
type Rules []Rule

// Plan returns the plan of the first rule that matches a, or false.
func (rs Rules) Plan(a reactions.Alarm) (reactions.Plan, bool) {
	for _, r := range rs {
		if r.Match.Matches(a) {
			return reactions.Plan{Reaction: r.Name, Steps: append([]reactions.Step(nil), r.Steps...)}, true
		}
	}
	return reactions.Plan{}, false
}

// Matches reports whether the alarm fits m.
func (m Match) Matches(a reactions.Alarm) bool {
	if !anyOf(m.Condition, a.Condition) || !anyOf(m.EventID, a.EventID) ||
		!anyOf(m.Application, a.Application) || !anyOf(m.Host, a.Host) ||
		!anyOf(m.Severity, a.Severity) {
		return false
	}
	for k, vals := range m.Labels {
		v, ok := a.Labels[k]
		if !ok || !anyOf(vals, v) {
			return false
		}
	}
	return true
}

// anyOf reports whether v matches one of the patterns; no patterns match
// anything.
func anyOf(patterns []string, v string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if p == v {
			return true
		}
		if glob(p, v) {
			return true
		}
	}
	return false
}

// glob matches v against p, where * is any run of characters (slashes
// included, unlike path.Match) and ? is one character. Nothing else is
// special, so every pattern is well formed.
func glob(p, v string) bool {
	// Iterative matching with backtracking to the last star.
	pi, vi := 0, 0
	star, mark := -1, 0
	for vi < len(v) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == v[vi]):
			pi++
			vi++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, vi
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			vi = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
