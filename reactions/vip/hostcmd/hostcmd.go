// Package hostcmd holds what the command-driven VIP backends (netsh, nlb,
// script) share: argument lists with ${name} placeholders, and programs
// resolved from the Windows system directory instead of PATH or the working
// directory.
//
// Placeholders are written ${name} so that the braces of Windows device
// names such as \Device\NPF_{85FEBE1C-9EEF-4E61-974B-1158DB270F6E} stay
// literal; "$$" stands for a literal "$". Placeholders are only ever
// expanded into whole argv elements: no shell sees them.
package hostcmd

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Expand fills the ${name} placeholders of every element of tmpl from
// values. An unknown placeholder, an unclosed "${" and a value holding NUL
// or a line break are errors, so a typo is caught when the backend is built.
func Expand(tmpl []string, values map[string]string) ([]string, error) {
	out := make([]string, 0, len(tmpl))
	for _, t := range tmpl {
		s, err := expandOne(t, values)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func expandOne(t string, values map[string]string) (string, error) {
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
			v, ok := values[name]
			if !ok {
				return "", fmt.Errorf("unknown placeholder ${%s} in %q (known: %s)", name, t, known(values))
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

func known(values map[string]string) string {
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, "${"+n+"}")
	}
	slices.Sort(names)
	return strings.Join(names, " ")
}

// ObserveTimeout bounds an observation whose context carries no deadline
// (the engine observes once more, without its step deadline, to record what
// a failed act left behind). wlbs and scripts can hang; an observation must
// not.
const ObserveTimeout = 30 * time.Second

// BoundObserve returns ctx unchanged when it has a deadline, and otherwise
// a context that ends after ObserveTimeout.
func BoundObserve(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, ObserveTimeout)
}

// Poll calls check every interval until it reports done, fails, or ctx
// ends. It returns check's error, or ctx.Err() when the context ended first.
func Poll(ctx context.Context, interval time.Duration, check func() (done bool, err error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
