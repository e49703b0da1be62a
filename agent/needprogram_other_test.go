//go:build !windows

package agent

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// needProgram returns the path of a program the test needs, or skips the
// test naming the Debian package that has it; under CI=true it fails.
func needProgram(t *testing.T, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found: install the Debian package %s (apt-get install %s)", name, debianPackage, debianPackage)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg) // outside CI only: CI=true fails above
	return ""
}
