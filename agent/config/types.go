package config

import (
	"fmt"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as "20s", "1m30s" in YAML.
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: duration must be a string like \"20s\"", n.Line)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (try \"20s\")", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// StringList accepts a single string or a list of strings.
type StringList []string

func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var s string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*l = StringList{s}
		return nil
	case yaml.SequenceNode:
		var ss []string
		if err := n.Decode(&ss); err != nil {
			return fmt.Errorf("line %d: expected a list of strings", n.Line)
		}
		*l = ss
		return nil
	}
	return fmt.Errorf("line %d: expected a string or a list of strings", n.Line)
}

// Secret is a token or key. In YAML it is "env:NAME" (read from the
// environment), "file:PATH" (read from a file, trailing newline removed) or a
// literal value. It never prints its value.
type Secret struct {
	Ref   string // what the config said, e.g. "env:VIPAGENT_TOKEN"
	value string
}

func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	var ref string
	if err := n.Decode(&ref); err != nil {
		return fmt.Errorf("line %d: secret must be a string (env:NAME, file:PATH or a value)", n.Line)
	}
	s.Ref = ref
	return nil
}

func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// resolve reads the secret's value.
func (s *Secret) resolve(getenv func(string) string) error {
	switch {
	case s.Ref == "":
		s.value = ""
	case strings.HasPrefix(s.Ref, "env:"):
		name := strings.TrimPrefix(s.Ref, "env:")
		s.value = getenv(name)
		if s.value == "" {
			return fmt.Errorf("environment variable %s is empty or unset", name)
		}
	case strings.HasPrefix(s.Ref, "file:"):
		b, err := os.ReadFile(strings.TrimPrefix(s.Ref, "file:"))
		if err != nil {
			return fmt.Errorf("read secret file: %w", err)
		}
		s.value = strings.TrimRight(string(b), "\r\n")
		if s.value == "" {
			return fmt.Errorf("secret file %s is empty", strings.TrimPrefix(s.Ref, "file:"))
		}
	default:
		s.value = s.Ref
	}
	return nil
}

// Value is the secret itself. Never log it.
func (s Secret) Value() string { return s.value }

// IsSet reports whether a secret was configured.
func (s Secret) IsSet() bool { return s.Ref != "" }

// String redacts the value.
func (s Secret) String() string {
	switch {
	case s.Ref == "":
		return ""
	case strings.HasPrefix(s.Ref, "env:"), strings.HasPrefix(s.Ref, "file:"):
		return s.Ref
	}
	return "[redacted]"
}

// NewSecret returns a literal secret, for tests and built-in defaults.
func NewSecret(v string) Secret { return Secret{Ref: v, value: v} }
