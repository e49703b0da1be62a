//go:build unix

package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// openAppend opens path for appending one record. A symbolic link is never
// followed, and in a directory anyone may write to (the temporary
// directory, sticky) a file someone else owns is refused: another local
// user could have made it in advance to read, forge or truncate the record
// of what this process did to the VIPs.
func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o640)
	if err != nil {
		return nil, err
	}
	if err := checkOwner(f, filepath.Dir(path)); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func checkOwner(f *os.File, dir string) error {
	di, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if di.Mode().Perm()&0o002 == 0 {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("owned by another user in a directory anyone may write to")
	}
	return nil
}
