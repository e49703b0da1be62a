//go:build !windows

package script

// launchArgv starts the program directly: a .sh carries its interpreter in
// its #! line.
func launchArgv(argv []string) ([]string, error) { return argv, nil }
