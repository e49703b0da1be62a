//go:build unix

package config

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// filePermProblem checks the file's owner and mode bits, and for the
// config its directories up to the root: OpenSSH's StrictModes. A
// directory others may write is allowed only when it is root's and
// sticky (/tmp): there only the owner of a file may rename or remove it.
func filePermProblem(path string, role fileRole) (string, string) {
	uid := uint32(os.Getuid())
	fi, err := os.Stat(path)
	if err != nil {
		return "", ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", "cannot read the file's owner: its permissions were not checked"
	}
	mode := fi.Mode().Perm()
	switch {
	case st.Uid != 0 && st.Uid != uid:
		return fmt.Sprintf("%s is owned by uid %d, neither root nor the user running vipagent (uid %d), who could change it: chown root %s",
			path, st.Uid, uid, path), ""
	case mode&0o022 != 0:
		return fmt.Sprintf("%s is writable by group or others (mode %04o): chmod go-w %s", path, mode, path), ""
	case role == roleSecret && mode&0o007 != 0:
		return fmt.Sprintf("%s is a secret readable by others (mode %04o): chmod o-rwx %s", path, mode, path), ""
	}
	if role != roleConfig {
		return "", ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", ""
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		di, err := os.Stat(dir)
		if err != nil {
			break
		}
		if dst, ok := di.Sys().(*syscall.Stat_t); ok {
			dmode := di.Mode()
			sticky := dmode&os.ModeSticky != 0 && dst.Uid == 0
			switch {
			case dst.Uid != 0 && dst.Uid != uid:
				return fmt.Sprintf("%s: its directory %s is owned by uid %d, neither root nor the user running vipagent (uid %d), who could replace the file",
					path, dir, dst.Uid, uid), ""
			case dmode.Perm()&0o022 != 0 && !sticky:
				return fmt.Sprintf("%s: its directory %s is writable by group or others (mode %04o), who could replace the file: chmod go-w %s",
					path, dir, dmode.Perm(), dir), ""
			}
		}
		if parent := filepath.Dir(dir); parent == dir {
			break
		}
	}
	return "", ""
}
