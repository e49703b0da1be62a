package reactions

import (
	"net"
	"net/url"
)

// Check is what every door's event must pass before it is journaled: a
// valid alarm and bounded Genesys arguments and origin. The engine's Submit
// calls it, so no door can skip it; the agent adds CheckCallback there.
func (ev *Event) Check() error {
	if err := ev.Alarm.Validate(); err != nil {
		return err
	}
	if err := checkGenesysArgs(ev.GenesysArgs); err != nil {
		return err
	}
	if err := ev.checkSize(); err != nil {
		return err
	}
	if len(ev.Origin) > maxField {
		return Invalid("origin: longer than %d characters", maxField)
	}
	if hasControl(ev.Origin, false) {
		return Invalid("origin: control characters are not allowed")
	}
	return nil
}

// maxGenesysArgs bounds the Genesys arguments a caller may have journaled;
// LCA adds eight.
const maxGenesysArgs = 16

func checkGenesysArgs(args map[string]string) error {
	if len(args) > maxGenesysArgs {
		return Invalid("genesys_args: more than %d", maxGenesysArgs)
	}
	for k, v := range args {
		probe := Alarm{Condition: "x", Labels: map[string]string{k: v}}
		if err := probe.Validate(); err != nil {
			return Invalid("genesys_args: %q: not a plain name and value", k)
		}
	}
	return nil
}

// CheckCallback allows a callback URL only to the hosts listed (host or
// host:port), over http(s), without credentials.
func CheckCallback(raw string, allowed []string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Invalid("callback_url: not an http(s) URL")
	}
	if u.User != nil {
		return Invalid("callback_url: credentials in the URL are not allowed")
	}
	host := u.Hostname()
	for _, a := range allowed {
		if a == u.Host || a == host {
			return nil
		}
		if h, _, err := net.SplitHostPort(a); err == nil && h == host && a == u.Host {
			return nil
		}
	}
	return Invalid("callback_url: host %q is not in callback_hosts", u.Host)
}

// Presence is how people read a VIP's state.
func Presence(present bool) string {
	if present {
		return "present"
	}
	return "absent"
}
