package reactions

import (
	"fmt"
	"strings"
)

// Argument templates let a configured command receive alarm fields as whole
// argv elements (never through a shell): {condition}, {event_id},
// {application}, {host}, {severity}, {text}, {id} (the vipagent event ID),
// {node}, {vip} and {label:NAME}. "{{" and "}}" stand for literal braces.

var argFields = map[string]bool{
	"condition": true, "event_id": true, "application": true, "host": true,
	"severity": true, "text": true, "id": true, "node": true, "vip": true,
}

// CheckArgTemplate reports whether t uses only known placeholders.
func CheckArgTemplate(t string) error {
	_, err := expand(t, func(string) string { return "" })
	return err
}

// ArgValues are what templates expand to.
type ArgValues struct {
	Event *Event
	VIP   string
}

// ExpandArg fills the placeholders of t. Values that contain NUL or line
// breaks are refused: they can never reach a program's argv.
func ExpandArg(t string, v ArgValues) (string, error) {
	a := v.Event.Alarm
	var bad error
	out, err := expand(t, func(name string) string {
		var val string
		switch name {
		case "condition":
			val = a.Condition
		case "event_id":
			val = a.EventID
		case "application":
			val = a.Application
		case "host":
			val = a.Host
		case "severity":
			val = a.Severity
		case "text":
			val = a.Text
		case "id":
			val = v.Event.ID
		case "node":
			val = v.Event.Node
		case "vip":
			val = v.VIP
		default:
			val = a.Labels[strings.TrimPrefix(name, "label:")]
		}
		if strings.ContainsAny(val, "\x00\r\n") {
			bad = Invalid("argument {%s} contains NUL or a line break", name)
		}
		return val
	})
	if err != nil {
		return "", err
	}
	return out, bad
}

func expand(t string, get func(string) string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '{' && i+1 < len(t) && t[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(t) && t[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(t[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("unclosed { in %q", t)
			}
			name := t[i+1 : i+end]
			if !argFields[name] && !(strings.HasPrefix(name, "label:") && len(name) > len("label:")) {
				return "", fmt.Errorf("unknown placeholder {%s} in %q", name, t)
			}
			b.WriteString(get(name))
			i += end
		case c == '}':
			return "", fmt.Errorf("stray } in %q", t)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
