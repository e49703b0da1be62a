// Package regularfile opens the files vipagent reads by name (the
// configuration, file: secrets, the TLS files, the journal) only when they
// are regular files. The type is checked before the open, since opening a
// FIFO blocks until a writer comes and no command may hang on a path, and
// again on the open file, in case the name was replaced between the looks.
package regularfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Open opens path for reading if it is a regular file. A missing or
// unreadable file's error is os.Open's.
func Open(path string) (*os.File, error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = notRegular(path, st.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Read reads a regular file of at most max bytes: a path such as /dev/zero
// must not make a command read until memory runs out.
func Read(path string, max int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(b)) > max {
		err = fmt.Errorf("%s is larger than %d KiB", path, max>>10)
	}
	return b, err
}

func notRegular(path string, m fs.FileMode) error {
	var what string
	switch {
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a FIFO"
	case m&fs.ModeDevice != 0:
		what = "a device"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	default:
		what = "of type " + m.Type().String()
	}
	return fmt.Errorf("%s is not a regular file (it is %s)", path, what)
}
