package config

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vipagent/vipagent/agent/regularfile"
)

// Secret is a token or key. In YAML it is "env:NAME" (read from the
// environment), "file:PATH" (read from a file, trailing newline removed) or a
// literal value. It never prints its value.
//
// A reference that cannot be resolved (an unset variable, an unreadable
// file) does not make the config invalid: RM runs the failover hook in its
// own environment, which may lack the variables LCA's has, and a command
// needs only the secrets it uses. The reference is looked up when the config
// is validated; the failure is kept and returned by Resolve, where the
// secret is used, with the config path and how to provide it.
type Secret struct {
	Ref   string // what the config said, e.g. "env:VIPAGENT_TOKEN"
	value string
	err   error
	// warn says that a file's permissions could not be checked.
	warn string
}

// ErrSecretUnavailable is wrapped by every error of Resolve.
var ErrSecretUnavailable = errors.New("secret unavailable")

// SecretError says why the secret at Path could not be resolved.
type SecretError struct {
	Path   string // config path, e.g. nodes.rm2.token
	Ref    string // env:NAME or file:PATH
	Reason string // what is wrong and how to provide it
}

func (e *SecretError) Error() string { return e.Path + ": " + e.Ref + " " + e.Reason }

func (e *SecretError) Unwrap() error { return ErrSecretUnavailable }

func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	var ref string
	if err := n.Decode(&ref); err != nil {
		return fmt.Errorf("a secret must be a string (env:NAME, file:PATH or a value)")
	}
	s.Ref = ref
	return nil
}

func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// How to provide a secret where RM runs the hook.
const (
	envAdvice  = "is not set in this process's environment (RM runs the failover hook in its own environment; use file:/path instead)"
	fileAdvice = "(the file must be readable by every account that runs vipagent: LCA's, and RM's for the failover hook)"
)

// load checks the reference's syntax, returning a config problem, and then
// looks it up; a lookup failure is kept for Resolve. minLen > 0 requires a
// value of at least that many characters.
func (s *Secret) load(path string, getenv func(string) string, minLen int) string {
	s.value, s.err, s.warn = "", nil, ""
	unavailable := func(format string, args ...any) {
		s.err = &SecretError{Path: path, Ref: s.Ref, Reason: fmt.Sprintf(format, args...)}
		s.value = unknowable()
	}
	switch {
	case s.Ref == "":
		return ""
	case strings.HasPrefix(s.Ref, "env:"):
		name := strings.TrimPrefix(s.Ref, "env:")
		if name == "" || strings.ContainsAny(name, "= \t\r\n\x00") {
			return fmt.Sprintf("%q is not env:NAME with a variable name", s.Ref)
		}
		if s.value = getenv(name); s.value == "" {
			unavailable("%s", envAdvice)
		}
	case strings.HasPrefix(s.Ref, "file:"):
		file := strings.TrimPrefix(s.Ref, "file:")
		if file == "" || strings.ContainsAny(file, "\r\n\x00") {
			return fmt.Sprintf("%q is not file:PATH with a path", s.Ref)
		}
		b, err := regularfile.Read(file, maxSecretFile)
		if err != nil {
			unavailable("cannot be read: %v %s", err, fileAdvice)
			return ""
		}
		prob, warn := permProblem(file, roleSecret)
		if warn != "" {
			s.warn = path + ": " + warn
		}
		if prob != "" {
			return prob
		}
		if s.value = strings.TrimRight(string(b), "\r\n"); s.value == "" {
			unavailable("is an empty file")
		}
	default:
		s.value = s.Ref
		if len(s.value) < minLen {
			return fmt.Sprintf("must be at least %d characters", minLen)
		}
		return ""
	}
	if s.err == nil && len(s.value) < minLen {
		unavailable("gives a value shorter than %d characters", minLen)
	}
	return ""
}

// maxSecretFile bounds a secret file: a token or key is short, and a path
// such as /dev/zero must not make the agent read forever.
const maxSecretFile = 64 << 10

// Resolve returns the secret's value. A secret that is not configured
// resolves to "" without error (check IsSet); one whose reference could not
// be resolved returns "" and a *SecretError naming its config path, its
// reference and how to provide it.
func (s Secret) Resolve() (string, error) {
	if s.err != nil {
		return "", s.err
	}
	return s.value, nil
}

// Value is the resolved secret, "" when none is configured. A secret whose
// reference could not be resolved has a random value nobody knows instead,
// never "": a bearer token compared with it or a signature checked with it
// fails closed. Use Resolve wherever the missing secret must be reported.
// Never log it.
func (s Secret) Value() string { return s.value }

// unknowable is the value of an unresolvable secret: 26 random base32
// characters (130 bits).
func unknowable() string { return rand.Text() }

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
