package agenttest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// EnvBinary names a prebuilt vipagent binary for the tests.
const EnvBinary = "VIPAGENT_EXE"

// ErrNoBinary says there is no vipagent binary to test: VIPAGENT_EXE is
// unset and there is no go command to build one.
var ErrNoBinary = errors.New("no vipagent binary: " + EnvBinary + " is unset and there is no go command to build one (scripts/test-windows.sh sets it under Wine)")

// Build returns the vipagent binary the tests of this process run: the one
// VIPAGENT_EXE names, or one built with `go build` into dir. Call it once,
// from TestMain, and hand its answer to RequireBinary in each test.
func Build(dir string) (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %w", EnvBinary, err)
		}
		return p, nil
	}
	gocmd, err := exec.LookPath("go")
	if err != nil {
		return "", ErrNoBinary
	}
	p := filepath.Join(dir, "vipagent"+exeSuffix)
	out, err := exec.Command(gocmd, "build", "-o", p, "github.com/vipagent/vipagent/agent/cmd/vipagent").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build vipagent: %w\n%s", err, out)
	}
	return p, nil
}
