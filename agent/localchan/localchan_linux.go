package localchan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vipagent/vipagent/agent/config"
)

// Listen opens the socket l.Socket for the agent. Its directory is created
// (mode 0750) when missing and its parent exists; it must then be owned by
// this account or root and writable by nobody else, since whoever can
// write it could put their own socket in the agent's place. A stale socket
// left by a previous run is replaced; anything else at the path is an
// error. The socket is mode 0660, group l.Group when set.
func Listen(l config.Local) (net.Listener, error) {
	dir := filepath.Dir(l.Socket)
	if err := os.Mkdir(dir, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("local.socket: create %s: %w", dir, err)
	}
	if err := checkDir(dir, []uint32{0, uint32(os.Geteuid())}); err != nil {
		return nil, fmt.Errorf("local.socket: %w", err)
	}
	if fi, err := os.Lstat(l.Socket); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("local.socket: %s exists and is not a socket; not replacing it", l.Socket)
		}
		if err := os.Remove(l.Socket); err != nil {
			return nil, fmt.Errorf("local.socket: remove stale %s: %w", l.Socket, err)
		}
	}
	// Nobody may connect before the mode and group are set.
	old := unix.Umask(0o177)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: l.Socket, Net: "unix"})
	unix.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("local.socket: listen: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	if l.Group != "" {
		gid, err := lookupGroup(l.Group)
		if err == nil {
			err = os.Chown(l.Socket, -1, gid)
		}
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("local.group: %w", err)
		}
	}
	if err := os.Chmod(l.Socket, 0o660); err != nil {
		ln.Close()
		return nil, fmt.Errorf("local.socket: %w", err)
	}
	return &listener{ln}, nil
}

func lookupGroup(g string) (int, error) {
	if n, err := strconv.Atoi(g); err == nil {
		return n, nil
	}
	gr, err := user.LookupGroup(g)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(gr.Gid)
}

// listener names the peer of every connection it accepts.
type listener struct{ *net.UnixListener }

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			return nil, err
		}
		p, err := peerOf(c)
		if err != nil {
			// No peer, no caller: never served.
			c.Close()
			continue
		}
		return &peerConn{Conn: c, peer: p}, nil
	}
}

func peerOf(c *net.UnixConn) (Peer, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return Peer{}, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return Peer{}, err
	}
	if cerr != nil {
		return Peer{}, cerr
	}
	return Peer{UID: cred.Uid, GID: cred.Gid, PID: cred.Pid}, nil
}

// CheckPath is the command's check of the socket before it talks to it:
// path is a socket, its directory is owned by root, by this account or by
// the owner of the agent's data directory (dataDir) and writable by nobody
// else, and no directory above it can be replaced by another account
// (writable by others only with the sticky bit). Otherwise whoever could
// write there may be listening in the agent's place.
func CheckPath(path, dataDir string) error {
	if err := checkPath(path, dataDir); err != nil {
		return &UntrustedError{Reason: err.Error()}
	}
	return nil
}

// Present reports whether something is at the socket's path: without it,
// there is no agent on the local channel.
func Present(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func checkPath(path, dataDir string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s is not a socket", path)
	}
	trusted := []uint32{0, uint32(os.Geteuid())}
	if st, err := os.Stat(dataDir); err == nil {
		trusted = append(trusted, st.Sys().(*syscall.Stat_t).Uid)
	}
	dir := filepath.Dir(path)
	if err := checkDir(dir, trusted); err != nil {
		return err
	}
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		sys := st.Sys().(*syscall.Stat_t)
		if !trustedUID(sys.Uid, trusted) {
			return fmt.Errorf("%s, above the socket, is owned by uid %d, not by root or the agent's account", d, sys.Uid)
		}
		if st.Mode().Perm()&0o022 != 0 && st.Mode()&fs.ModeSticky == 0 {
			return fmt.Errorf("%s, above the socket, is writable by others (mode %v) without the sticky bit", d, st.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// checkDir requires dir to be a real directory owned by one of trusted and
// writable by nobody else.
func checkDir(dir string, trusted []uint32) error {
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if !trustedUID(sys.Uid, trusted) {
		return fmt.Errorf("the socket's directory %s is owned by uid %d, not by root or the agent's account", dir, sys.Uid)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("the socket's directory %s is writable by group or others (mode %v); it must be writable only by its owner", dir, st.Mode().Perm())
	}
	return nil
}

func trustedUID(uid uint32, trusted []uint32) bool {
	for _, t := range trusted {
		if uid == t {
			return true
		}
	}
	return false
}

// Dial connects to the agent's socket, once CheckPath found it safe.
func Dial(ctx context.Context, path, dataDir string) (net.Conn, error) {
	if err := CheckPath(path, dataDir); err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, "unix", path)
}
