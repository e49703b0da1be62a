package config

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// File access rights that change a file or its permissions, and that read
// it (winnt.h; x/sys/windows has the generic ones only).
const (
	fileReadData   = 0x0001
	fileWriteData  = 0x0002
	fileAppendData = 0x0004
	fileWriteEA    = 0x0010
	fileWriteAttrs = 0x0100
	writeRights    = fileWriteData | fileAppendData | fileWriteEA | fileWriteAttrs |
		windows.DELETE | windows.WRITE_DAC | windows.WRITE_OWNER | windows.GENERIC_WRITE | windows.GENERIC_ALL
	readRights = fileReadData | windows.GENERIC_READ | windows.GENERIC_ALL
)

// underWine is set when ntdll is Wine's: the ACL Wine reports is made up
// from Unix mode bits, and a program cannot change it (SetNamedSecurityInfo
// is not kept), so it tells nothing a Windows ACL would.
var underWine = windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil

// broadSIDs are the groups that stand for "everyone" on a Windows host.
var broadSIDs = []windows.WELL_KNOWN_SID_TYPE{
	windows.WinWorldSid, windows.WinAuthenticatedUserSid, windows.WinBuiltinUsersSid,
	windows.WinBuiltinGuestsSid, windows.WinAnonymousSid,
}

// filePermProblem reads the file's owner and DACL, as OpenSSH for Windows
// does: the owner must be SYSTEM, Administrators or the user running
// vipagent; an allow entry for anyone else must not grant a write right;
// for a secret, no entry for a group that stands for everyone (Everyone,
// Authenticated Users, Users, Guests, Anonymous) may grant reading. When
// the ACL cannot be read, nothing is refused and a warning says so.
func filePermProblem(path string, role fileRole) (string, string) {
	if underWine {
		return "", fmt.Sprintf("Wine derives ACLs from the host's Unix file modes: the permissions of %s were not checked (check its Unix mode)", path)
	}
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return "", fmt.Sprintf("cannot read the ACL of %s (%v): its permissions were not checked", path, err)
	}
	self, err := currentUserSID()
	if err != nil {
		return "", fmt.Sprintf("cannot tell the current user (%v): the ACL of %s was not checked", err, path)
	}
	return aclProblem(path, sd, self, role)
}

// aclProblem judges a file's security descriptor for role, self being the
// user running vipagent.
func aclProblem(path string, sd *windows.SECURITY_DESCRIPTOR, self *windows.SID, role fileRole) (string, string) {
	trusted := func(sid *windows.SID) bool {
		return sid.IsWellKnown(windows.WinLocalSystemSid) || sid.IsWellKnown(windows.WinBuiltinAdministratorsSid) ||
			sid.Equals(self)
	}
	owner, _, err := sd.Owner()
	if err != nil || owner == nil {
		return "", fmt.Sprintf("cannot read the owner of %s: its permissions were not checked", path)
	}
	if !trusted(owner) {
		return fmt.Sprintf("%s is owned by %s, neither SYSTEM, Administrators nor the user running vipagent, who could change it", path, sidName(owner)), ""
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return "", fmt.Sprintf("cannot read the DACL of %s (%v): its permissions were not checked", path, err)
	}
	if dacl == nil {
		return fmt.Sprintf("%s has no DACL: everyone may change it; give it the permissions of its directory (icacls %s /reset)", path, path), ""
	}
	for i := range uint32(dacl.AceCount) {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return "", fmt.Sprintf("cannot read the ACL of %s (%v): its permissions were not checked", path, err)
		}
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE {
			continue
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		if trusted(sid) || sid.IsWellKnown(windows.WinCreatorOwnerSid) {
			continue
		}
		if ace.Mask&writeRights != 0 {
			return fmt.Sprintf("%s is writable by %s (access mask 0x%x): icacls %s /remove %s", path, sidName(sid), uint32(ace.Mask), path, sidName(sid)), ""
		}
		if role == roleSecret && ace.Mask&readRights != 0 && broad(sid) {
			return fmt.Sprintf("%s is a secret readable by %s: icacls %s /inheritance:r /remove %s", path, sidName(sid), path, sidName(sid)), ""
		}
	}
	return "", ""
}

func broad(sid *windows.SID) bool {
	for _, t := range broadSIDs {
		if sid.IsWellKnown(t) {
			return true
		}
	}
	return false
}

func sidName(sid *windows.SID) string {
	if account, domain, _, err := sid.LookupAccount(""); err == nil {
		if domain != "" {
			return domain + `\` + account
		}
		return account
	}
	return sid.String()
}

func currentUserSID() (*windows.SID, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, err
	}
	return u.User.Sid, nil
}
