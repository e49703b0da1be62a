// Package localchan is the agent's local channel: a Unix socket (Linux) in
// a directory nobody but the agent's account (or root) may write, whose
// callers the kernel names (SO_PEERCRED). A caller the operating system
// vouches for needs no token, so RM's failover hook works in RM's own
// environment; which accounts may use it is configured (config.Local).
// Both halves live here: Listen and Authorize for the agent, CheckPath and
// Dial for the command.
package localchan

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/vipagent/vipagent/agent/config"
)

// Peer is the account at the other end of a local connection, as the
// operating system reports it.
type Peer struct {
	UID, GID uint32 // Linux
	PID      int32
	// SID is the account's security identifier and Groups its token's
	// enabled groups' (Windows).
	SID    string
	Groups []string
}

// ID is the peer as httpapi.Caller names it: "local:uid=N", or
// "local:<SID>" on Windows.
func (p Peer) ID() string {
	if p.SID != "" {
		return "local:" + p.SID
	}
	return "local:uid=" + strconv.FormatUint(uint64(p.UID), 10)
}

type ctxKey struct{}

// ConnContext is the http.Server's ConnContext for a local listener: it
// puts the connection's peer on every request's context.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if pc, ok := c.(*peerConn); ok {
		return context.WithValue(ctx, ctxKey{}, pc.peer)
	}
	return ctx
}

// PeerOf is the peer of a request that came in on the local channel.
func PeerOf(ctx context.Context) (Peer, bool) {
	p, ok := ctx.Value(ctxKey{}).(Peer)
	return p, ok
}

// UntrustedError says why the local channel's endpoint cannot be trusted to
// be the agent's: whoever could put it there may be listening in its place.
type UntrustedError struct{ Reason string }

func (e *UntrustedError) Error() string { return e.Reason }

// peerConn is an accepted local connection and who is at its other end.
type peerConn struct {
	net.Conn
	peer Peer
}

// Authorize is the role of a local caller without a token: admin for root
// (LocalSystem, Administrators) and the agent's own account,
// l.CallerRole() for the configured users and groups; an error naming the
// account for anyone else.
func Authorize(p Peer, l config.Local) (string, error) {
	return authorize(p, l, privileged(p))
}

func authorize(p Peer, l config.Local, privileged bool) (string, error) {
	if privileged {
		return config.RoleAdmin, nil
	}
	names, groups := accountOf(p)
	for _, u := range l.Users {
		if slices.Contains(names, u) {
			return l.CallerRole(), nil
		}
	}
	for _, g := range l.Groups {
		if slices.Contains(groups, g) {
			return l.CallerRole(), nil
		}
	}
	who := describePeer(p, names)
	return "", fmt.Errorf("%s is not in local.users and in none of local.groups", who)
}
