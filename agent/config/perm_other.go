//go:build !unix && !windows

package config

// filePermProblem checks nothing where the operating system's permissions
// are unknown to vipagent; the warning says so.
func filePermProblem(path string, _ fileRole) (string, string) {
	return "", "the permissions of " + path + " cannot be checked on this system"
}
