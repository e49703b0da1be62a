package config

import (
	"errors"
	"io/fs"
	"os"
)

// Who may change or read the files the agent trusts. A config others can
// write is a `run` command away from running anything as the agent's user
// (root on Linux, SYSTEM under LCA); a secret or key others can read is
// theirs. The rules follow OpenSSH's for ssh_config, authorized_keys and
// private keys: the owner must be root (Administrators, SYSTEM) or the
// user running vipagent; no one else may write; a secret or key may not
// be readable by everyone (a group may read it: the accounts that run the
// hooks, e.g. RM's, need the tokens).
type fileRole int

const (
	// roleConfig: the config file; its directories count too, since
	// whoever may rename in one can replace the file.
	roleConfig fileRole = iota
	// roleTrusted: a file that decides whom the agent trusts (a CA, a
	// certificate): no one else may write it.
	roleTrusted
	// roleSecret: a file: secret or a private key: no one else may write
	// it, and not everyone may read it.
	roleSecret
)

// permProblem says why the file at path must not be trusted for role, or
// "" when it may (also when it does not exist: reading it reports that).
// warning is set when the operating system's permissions could not be
// read, and nothing was checked.
func permProblem(path string, role fileRole) (problem, warning string) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", ""
	}
	return filePermProblem(path, role)
}

// checkFilePerm adds a problem (or a warning) for the file at path, under
// the config path where.
func (c *Config) checkFilePerm(p *Problems, where, path string, role fileRole) {
	prob, warn := permProblem(path, role)
	if prob != "" {
		p.add(where, "%s", prob)
	}
	if warn != "" {
		c.PermissionWarnings = append(c.PermissionWarnings, where+": "+warn)
	}
}
