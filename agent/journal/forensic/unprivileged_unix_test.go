//go:build unix

package forensic

import (
	"testing"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// runUnprivileged, as root (which file permissions do not bind, as in
// CI), runs the current test again as user nobody and fails when that run
// fails; it returns true, and the caller returns. Not root, it returns
// false and the caller goes on itself.
func runUnprivileged(t *testing.T) bool { return agenttest.Rerun(t, true) }
