package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Local is the agent's local channel: a Unix socket on Linux, a named pipe
// on Windows. The operating system says who the caller is, so a caller it
// vouches for needs no token there: RM's failover hook works in RM's own
// environment and with a webhook-only auth. Off unless socket is set.
type Local struct {
	// Socket is the socket's path (Linux), e.g. /run/vipagent/vipagent.sock,
	// in a directory owned by the agent's user (or root) that nobody else
	// may write; or the pipe's name (Windows), e.g. \\.\pipe\vipagent.
	Socket string `yaml:"socket"`
	// Group owns the socket file (mode 0660), so that its members can
	// connect; empty keeps the agent's primary group (Linux).
	Group string `yaml:"group"`
	// Users and Groups may use the channel, by name or number (Linux) or by
	// account name or SID (Windows). The agent's own account and root
	// (LocalSystem and Administrators on Windows) always may.
	Users  []string `yaml:"users"`
	Groups []string `yaml:"groups"`
	// Role is what a local caller may do without a token: trigger (the
	// default: alarms and the failover hook), read or admin. The agent's
	// own account and root are admin. A token sent on the channel counts
	// as it does over TCP.
	Role string `yaml:"role"`
}

// Enabled reports whether the local channel is configured.
func (l Local) Enabled() bool { return l.Socket != "" }

// CallerRole is the role of a local caller without a token.
func (l Local) CallerRole() string {
	if l.Role == "" {
		return RoleTrigger
	}
	return l.Role
}

// pipePrefix starts every Windows named pipe's name.
const pipePrefix = `\\.\pipe\`

// IsPipe reports whether the socket names a Windows named pipe.
func (l Local) IsPipe() bool {
	return strings.HasPrefix(strings.ToLower(l.Socket), strings.ToLower(pipePrefix))
}

// maxSocketPath is the longest Unix socket path Linux takes (sun_path is
// 108 bytes, NUL included).
const maxSocketPath = 107

func (c *Config) validateLocal(p *Problems) {
	l := c.Local
	if !l.Enabled() {
		if l.Group != "" || len(l.Users) > 0 || len(l.Groups) > 0 || l.Role != "" {
			p.add("local.socket", "required when local.group, local.users, local.groups or local.role is set")
		}
		return
	}
	switch {
	case strings.ContainsAny(l.Socket, "\x00\r\n"):
		p.add("local.socket", "must not contain control characters")
	case l.IsPipe():
		if len(l.Socket) == len(pipePrefix) || strings.ContainsAny(l.Socket[len(pipePrefix):], `\/`) {
			p.add("local.socket", "%q: a pipe name is \\\\.\\pipe\\NAME, NAME without slashes", l.Socket)
		}
	case !filepath.IsAbs(l.Socket):
		p.add("local.socket", "%q: must be an absolute path (or \\\\.\\pipe\\NAME on Windows)", l.Socket)
	case len(l.Socket) > maxSocketPath:
		p.add("local.socket", "%q: longer than %d bytes, which a Unix socket path cannot be", l.Socket, maxSocketPath)
	}
	if l.Role != "" && !slices.Contains([]string{RoleRead, RoleTrigger, RoleAdmin}, l.Role) {
		p.add("local.role", "must be read, trigger or admin")
	}
	for name, list := range map[string][]string{"local.users": l.Users, "local.groups": l.Groups} {
		for i, v := range list {
			if v == "" || strings.ContainsAny(v, "\x00\r\n:") {
				p.add(fmt.Sprintf("%s[%d]", name, i), "must be a name or a number")
			}
		}
	}
	if strings.ContainsAny(l.Group, "\x00\r\n:") {
		p.add("local.group", "must be a name or a number")
	}
}
