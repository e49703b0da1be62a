//go:build !windows

package agenttest

import (
	"fmt"
	"os/exec"
	"testing"
)

func lookProgram(t testing.TB, program, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		err = fmt.Errorf("%w: install the Debian package %s (apt-get install %s)", err, debianPackage, debianPackage)
	}
	Require(t, program, err)
	return path
}
