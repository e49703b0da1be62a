package genesys

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Write stores files (name → content) in dir, creating dir if needed, all
// or (as far as the file system allows) nothing: every name is checked
// first, every file is then written to a temporary file in dir and synced,
// and only when all of them are written are they renamed over their names.
// A name taken by something that is not a regular file (a directory, a
// symlink) fails the whole write before anything is written. Names must be
// plain file names. Shell scripts (*.sh) are made executable.
func Write(dir string, files map[string][]byte) error {
	names := slices.Sorted(maps.Keys(files))
	for _, name := range names {
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || filepath.Base(name) != name {
			return fmt.Errorf("write %q: not a plain file name", name)
		}
		if fi, err := os.Lstat(filepath.Join(dir, name)); err == nil && !fi.Mode().IsRegular() {
			return fmt.Errorf("write %s: %s exists and is not a regular file (a directory?); nothing was written", name, filepath.Join(dir, name))
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	temps := make(map[string]string, len(names))
	removeTemps := func() error {
		var errs []error
		for _, tmp := range temps {
			if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	for _, name := range names {
		tmp, err := writeTemp(dir, name, files[name])
		if err != nil {
			return errors.Join(fmt.Errorf("%w; nothing was written", err), removeTemps())
		}
		temps[name] = tmp
	}
	for _, name := range names {
		if err := os.Rename(temps[name], filepath.Join(dir, name)); err != nil {
			return errors.Join(fmt.Errorf("write %s: %w", name, err), removeTemps())
		}
		delete(temps, name)
	}
	return nil
}

// writeTemp writes data to a synced temporary file in dir, with the mode
// name's file gets, and returns its path.
func writeTemp(dir, name string, data []byte) (_ string, err error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(f.Name()))
		}
	}()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		werr = os.Chmod(f.Name(), mode)
	}
	if werr != nil {
		return "", fmt.Errorf("write %s: %w", name, werr)
	}
	return f.Name(), nil
}
