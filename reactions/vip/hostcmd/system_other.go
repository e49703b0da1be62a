//go:build !windows

package hostcmd

import (
	"errors"
	"fmt"
)

// SystemProgram exists on Windows only; elsewhere the backends that need
// it must be given a full path (which is how the tests point them at fakes).
func SystemProgram(name string) (string, error) {
	return "", fmt.Errorf("%s lives in the Windows system directory; on this OS give its full path: %w", name, errors.ErrUnsupported)
}
