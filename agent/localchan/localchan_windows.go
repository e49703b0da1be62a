package localchan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"

	"github.com/vipagent/vipagent/agent/config"
)

// Well-known SIDs: LocalSystem and the local Administrators group.
const (
	sidSystem         = "S-1-5-18"
	sidAdministrators = "S-1-5-32-544"
)

// Listen opens the named pipe l.Socket. Its ACL admits LocalSystem,
// Administrators, the agent's own account and the configured users and
// groups (l.Group too): nobody else can open it. winio creates the first
// instance exclusively, so a pipe someone else made first is an error, not
// shared.
func Listen(l config.Local) (net.Listener, error) {
	sddl, err := pipeSDDL(l)
	if err != nil {
		return nil, err
	}
	ln, err := winio.ListenPipe(l.Socket, &winio.PipeConfig{SecurityDescriptor: sddl})
	if err != nil {
		return nil, fmt.Errorf("local.socket: listen on %s: %w", l.Socket, err)
	}
	return &listener{ln}, nil
}

// pipeSDDL is the pipe's security descriptor: full control for LocalSystem,
// Administrators and this account, read and write for the configured
// accounts; nothing for anyone else (protected, no inherited entries).
func pipeSDDL(l config.Local) (string, error) {
	self, err := selfSID()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;" + self + ")")
	names := slices.Concat(l.Users, l.Groups)
	if l.Group != "" {
		names = append(names, l.Group)
	}
	for _, n := range names {
		sid, err := lookupSID(n)
		if err != nil {
			return "", fmt.Errorf("local: account %q: %w", n, err)
		}
		b.WriteString("(A;;GRGW;;;" + sid + ")")
	}
	return b.String(), nil
}

// lookupSID is the SID of an account or group given by name or as a SID.
func lookupSID(name string) (string, error) {
	if strings.HasPrefix(strings.ToUpper(name), "S-1-") {
		sid, err := windows.StringToSid(name)
		if err != nil {
			return "", err
		}
		return sid.String(), nil
	}
	sid, _, _, err := windows.LookupSID("", name)
	if err != nil {
		return "", err
	}
	return sid.String(), nil
}

func selfSID() (string, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return "", fmt.Errorf("this process's account: %w", err)
	}
	return u.User.Sid.String(), nil
}

// listener names the peer of every connection it accepts.
type listener struct{ net.Listener }

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		p, err := clientOf(c)
		if err != nil {
			// No peer, no caller: never served.
			c.Close()
			continue
		}
		return &peerConn{Conn: c, peer: p}, nil
	}
}

// handleOf is the pipe handle under a winio connection.
func handleOf(c net.Conn) (windows.Handle, error) {
	f, ok := c.(interface{ Fd() uintptr })
	if !ok {
		return 0, errors.New("not a named pipe connection")
	}
	return windows.Handle(f.Fd()), nil
}

// clientOf is the account of the process at the client end of the pipe.
func clientOf(c net.Conn) (Peer, error) {
	h, err := handleOf(c)
	if err != nil {
		return Peer{}, err
	}
	var pid uint32
	if err := windows.GetNamedPipeClientProcessId(h, &pid); err != nil {
		return Peer{}, err
	}
	return processPeer(pid)
}

// processPeer is the account and enabled groups of process pid's token.
func processPeer(pid uint32) (Peer, error) {
	ph, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return Peer{}, err
	}
	defer windows.CloseHandle(ph)
	var tok windows.Token
	if err := windows.OpenProcessToken(ph, windows.TOKEN_QUERY, &tok); err != nil {
		return Peer{}, err
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return Peer{}, err
	}
	p := Peer{PID: int32(pid), SID: u.User.Sid.String()}
	if gs, err := tok.GetTokenGroups(); err == nil {
		for _, g := range gs.AllGroups() {
			// A deny-only group (Administrators under UAC) grants nothing.
			if g.Attributes&windows.SE_GROUP_ENABLED != 0 {
				p.Groups = append(p.Groups, g.Sid.String())
			}
		}
	}
	return p, nil
}

// privileged: LocalSystem, an enabled Administrators member and the
// agent's own account.
func privileged(p Peer) bool {
	self, _ := selfSID()
	return p.SID == sidSystem || p.SID == self || slices.Contains(p.Groups, sidAdministrators)
}

func describePeer(p Peer, names []string) string {
	if len(names) > 1 {
		return fmt.Sprintf("account %s (%s)", names[1], p.SID)
	}
	return "account " + p.SID
}

// accountOf is the peer's account by SID and by name, and its groups by
// SID and by name.
func accountOf(p Peer) (names []string, groups []string) {
	names = []string{p.SID}
	if sid, err := windows.StringToSid(p.SID); err == nil {
		if a, d, _, err := sid.LookupAccount(""); err == nil {
			names = append(names, a, d+`\`+a)
		}
	}
	for _, g := range p.Groups {
		groups = append(groups, g)
		if sid, err := windows.StringToSid(g); err == nil {
			if a, d, _, err := sid.LookupAccount(""); err == nil {
				groups = append(groups, a, d+`\`+a)
			}
		}
	}
	return names, groups
}

// Present: a pipe is found by opening it (Dial).
func Present(path string) bool { return true }

// CheckPath has nothing to check before the pipe is opened: Dial checks
// who serves it.
func CheckPath(path, dataDir string) error { return nil }

// Dial opens the agent's pipe and checks who serves it: LocalSystem, an
// Administrators member, this account or the owner of the agent's data
// directory. Anyone may create a pipe of any name while the agent is down.
func Dial(ctx context.Context, path, dataDir string) (net.Conn, error) {
	c, err := winio.DialPipeContext(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := checkServer(c, dataDir); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func checkServer(c net.Conn, dataDir string) error {
	h, err := handleOf(c)
	if err != nil {
		return err
	}
	var pid uint32
	if err := windows.GetNamedPipeServerProcessId(h, &pid); err != nil {
		return &UntrustedError{Reason: fmt.Sprintf("cannot tell who serves %s: %v", c.RemoteAddr(), err)}
	}
	p, err := processPeer(pid)
	if err != nil {
		return &UntrustedError{Reason: fmt.Sprintf("cannot tell who serves the pipe (process %d): %v", pid, err)}
	}
	if privileged(p) || p.SID == ownerOf(dataDir) {
		return nil
	}
	return &UntrustedError{Reason: fmt.Sprintf("the pipe is served by process %d of account %s, which is neither LocalSystem, an administrator, this account nor the owner of %s", pid, p.SID, dataDir)}
}

// ownerOf is the SID owning path, or "".
func ownerOf(path string) string {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return ""
	}
	o, _, err := sd.Owner()
	if err != nil || o == nil {
		return ""
	}
	return o.String()
}
