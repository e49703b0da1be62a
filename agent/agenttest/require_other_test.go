//go:build !windows

package agenttest

import (
	"strings"
	"testing"
)

func TestRequireProgram(t *testing.T) {
	t.Setenv("CI", "")
	r := run(t, func(tb testing.TB) { RequireProgram(tb, "vipagent-no-such-program", "vipagent-pkg") })
	if !r.skipped || !strings.Contains(r.msg, "vipagent-no-such-program") || !strings.Contains(r.msg, "Debian package vipagent-pkg") {
		t.Errorf("skipped %v, %q; want a skip naming the program and its Debian package", r.skipped, r.msg)
	}
	var got string
	r = run(t, func(tb testing.TB) { got = RequireProgram(tb, "go", "golang-go") })
	if r.skipped || r.failed || got == "" {
		t.Errorf("RequireProgram(go) = %q, skipped %v failed %v (%s); want its path", got, r.skipped, r.failed, r.msg)
	}
}
