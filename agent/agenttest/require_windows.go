package agenttest

import "testing"

func lookProgram(t testing.TB, program, debianPackage string) string {
	t.Helper()
	t.Skipf("%s (Debian package %s) is a Linux program: this check runs in the Linux test run, not on windows", program, debianPackage)
	return ""
}
