// Package vip holds what every VIP backend shares: the description of the
// VIP it moves and a strict decoder for its options. The backends live in
// the packages below this one; the engine declares the interface they meet.
package vip

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Spec is one configured VIP as a backend sees it.
type Spec struct {
	Name      string
	Prefix    netip.Prefix // address and prefix length, e.g. 192.0.2.100/24
	Interface string
	// DataDir is the agent's data directory, for backends that keep state.
	DataDir string
	// MemberID is this node's RM member ID (nodes.<node>.member_id), what
	// Genesys' scripts take as "enable X"; 0 when not configured.
	MemberID int
}

// DecodeOptions decodes a backend's options map into dst strictly: unknown
// keys are errors, so a typo never silently falls back to a default.
func DecodeOptions(raw map[string]any, dst any) error {
	if len(raw) == 0 {
		return nil
	}
	b, err := yaml.Marshal(raw)
	if err != nil {
		return fmt.Errorf("options: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(dst); err != nil {
		return optionsError(err)
	}
	return nil
}

var (
	yamlLine     = regexp.MustCompile(`^line \d+: `)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// optionsError rewrites yaml's errors about the re-marshalled options map
// (whose line numbers mean nothing to the user) as one line per problem,
// naming the option.
func optionsError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("options: %w", err)
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		e = yamlLine.ReplaceAllString(e, "")
		if m := unknownField.FindStringSubmatch(e); m != nil {
			msgs = append(msgs, "options."+m[1]+": unknown option")
			continue
		}
		msgs = append(msgs, "options: "+e)
	}
	return errors.New(strings.Join(msgs, "; "))
}
