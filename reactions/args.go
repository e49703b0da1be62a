package reactions

import (
	"fmt"
	"slices"
	"strings"
)

// Placeholders. Every configured argument list — a `run` command's argv and
// the command backends' argument templates — writes placeholders one way:
// ${name}. "$$" stands for a literal "$"; braces without "$" are literal,
// so Windows device names such as \Device\NPF_{85FEBE1C-...} need no
// escaping. A placeholder always expands inside one argv element (no shell
// sees it), never in argv[0] (the sender of an alarm must not choose the
// program), and a value holding NUL or a line break is refused.
//
// Commands may use the alarm's fields: ${condition}, ${event_id},
// ${application}, ${host}, ${severity}, ${text}, ${id} (the vipagent event
// ID), ${node}, ${vip} and ${label:NAME}. The backends' names are listed
// where they are documented.

// Expand fills the ${name} placeholders of t; lookup says what a name
// stands for, and whether it is known.
func Expand(t string, lookup func(name string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '$' && i+1 < len(t) && t[i+1] == '$':
			b.WriteByte('$')
			i++
		case c == '$' && i+1 < len(t) && t[i+1] == '{':
			end := strings.IndexByte(t[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("unclosed ${ in %q", t)
			}
			name := t[i+2 : i+end]
			v, ok := lookup(name)
			if !ok {
				return "", fmt.Errorf("unknown placeholder ${%s} in %q", name, t)
			}
			if strings.ContainsAny(v, "\x00\r\n") {
				return "", fmt.Errorf("placeholder ${%s} holds NUL or a line break", name)
			}
			b.WriteString(v)
			i += end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// ExpandMap is Expand with the values of a map, whose names an unknown
// placeholder's error lists.
func ExpandMap(t string, values map[string]string) (string, error) {
	out, err := Expand(t, func(name string) (string, bool) {
		v, ok := values[name]
		return v, ok
	})
	if err != nil && strings.HasPrefix(err.Error(), "unknown placeholder") {
		names := make([]string, 0, len(values))
		for n := range values {
			names = append(names, "${"+n+"}")
		}
		slices.Sort(names)
		return "", fmt.Errorf("%w (known: %s)", err, strings.Join(names, " "))
	}
	return out, err
}

// HasPlaceholder reports whether t holds a ${...} placeholder.
func HasPlaceholder(t string) bool {
	return strings.Contains(strings.ReplaceAll(t, "$$", ""), "${")
}

var argFields = map[string]bool{
	"condition": true, "event_id": true, "application": true, "host": true,
	"severity": true, "text": true, "id": true, "node": true, "vip": true,
}

func knownArg(name string) bool {
	return argFields[name] || (strings.HasPrefix(name, "label:") && len(name) > len("label:"))
}

// CheckArgv reports whether a command's argv uses only known placeholders,
// and none in its program.
func CheckArgv(argv []string) error {
	if len(argv) == 0 {
		return fmt.Errorf("empty")
	}
	if HasPlaceholder(argv[0]) {
		return fmt.Errorf("argv[0]: the program cannot be a placeholder (%q)", argv[0])
	}
	for i, a := range argv {
		if _, err := Expand(a, func(name string) (string, bool) { return "", knownArg(name) }); err != nil {
			return fmt.Errorf("argv[%d]: %w", i, err)
		}
	}
	return nil
}

// ArgValues are what templates expand to.
type ArgValues struct {
	Event *Event
	VIP   string
}

// ExpandArg fills the placeholders of t with the event's values.
func ExpandArg(t string, v ArgValues) (string, error) {
	a := v.Event.Alarm
	out, err := Expand(t, func(name string) (string, bool) {
		switch name {
		case "condition":
			return a.Condition, true
		case "event_id":
			return a.EventID, true
		case "application":
			return a.Application, true
		case "host":
			return a.Host, true
		case "severity":
			return a.Severity, true
		case "text":
			return a.Text, true
		case "id":
			return v.Event.ID, true
		case "node":
			return v.Event.Node, true
		case "vip":
			return v.VIP, true
		}
		if label, ok := strings.CutPrefix(name, "label:"); ok && label != "" {
			return a.Labels[label], true
		}
		return "", false
	})
	if err != nil {
		return "", Invalid("%v", err)
	}
	return out, nil
}
