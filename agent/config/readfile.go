package config

import (
	"fmt"
	"io"
	"os"
)

// maxConfigFile bounds the configuration file: a real one is a few KiB,
// and a path such as /dev/zero must not make a command read until memory
// runs out.
const maxConfigFile = 4 << 20

// readRegular reads a regular file of at most max bytes. The type is
// checked before the file is opened, since opening a FIFO blocks until a
// writer comes (a command must never hang on its config), and again on the
// open file.
func readRegular(path string, max int64) ([]byte, error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path) // a missing file's error comes from here
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(b)) > max {
		err = fmt.Errorf("%s is larger than %d KiB", path, max>>10)
	}
	return b, err
}
