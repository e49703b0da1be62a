//go:build !unix

package journal

import "os"

// openAppend opens path for appending one record.
func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
}
