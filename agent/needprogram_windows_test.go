package agent

import "testing"

// needProgram skips on Windows: the programs these tests need (promtool,
// prometheus) are Debian's Linux programs, which the Linux run of the same
// tests uses; it never passes a Windows test that did not run.
func needProgram(t *testing.T, name, debianPackage string) string {
	t.Helper()
	t.Skipf("%s (Debian package %s) is a Linux program: this check runs in the Linux test run, not on windows", name, debianPackage)
	return ""
}
