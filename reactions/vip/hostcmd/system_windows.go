//go:build windows

package hostcmd

import (
	"fmt"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// SystemProgram returns the full path of name in the Windows system
// directory (normally C:\Windows\System32). It never consults PATH or the
// working directory, where a planted netsh.exe could sit.
func SystemProgram(name string) (string, error) {
	dir, err := windows.GetSystemDirectory()
	if err != nil {
		return "", fmt.Errorf("find the system directory: %w", err)
	}
	return filepath.Join(dir, name), nil
}
