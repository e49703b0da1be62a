//go:build windows

package script

import (
	"github.com/vipagent/vipagent/reactions/command"
	"github.com/vipagent/vipagent/reactions/vip/hostcmd"
)

// launchArgv runs batch files through cmd.exe from the system directory,
// because CreateProcess cannot start a .bat itself; every other program is
// started directly.
func launchArgv(argv []string) ([]string, error) {
	if !command.IsBatch(argv[0]) {
		return argv, nil
	}
	if err := command.CheckBatchArgv(argv); err != nil {
		return nil, err
	}
	cmd, err := hostcmd.SystemProgram("cmd.exe")
	if err != nil {
		return nil, err
	}
	return append([]string{cmd, "/d", "/s", "/c"}, argv...), nil
}
