package agenttest

import (
	"strings"
	"testing"
)

// Debian's programs do not run on Windows: the test skips there, also in
// CI, instead of failing a Windows run that cannot have them.
func TestRequireProgramSkipsOnWindows(t *testing.T) {
	t.Setenv("CI", "true")
	r := run(t, func(tb testing.TB) { RequireProgram(tb, "promtool", "prometheus") })
	if !r.skipped || r.failed || !strings.Contains(r.msg, "Linux program") {
		t.Errorf("skipped %v failed %v (%q); want a skip saying it is a Linux program", r.skipped, r.failed, r.msg)
	}
}
