package viptest

import (
	"fmt"

	"golang.org/x/sys/windows"
)

const exeSuffix = ".exe"

// thisInvocation reads this process's command line and splits it with
// CommandLineToArgvW, the rules Windows programs written in C use (netsh,
// nlb and wlbs among them), rather than trusting os.Args.
func thisInvocation() (Invocation, error) {
	line := windows.UTF16PtrToString(windows.GetCommandLine())
	argv, err := windows.DecomposeCommandLine(line)
	if err != nil {
		return Invocation{}, fmt.Errorf("split command line %q: %w", line, err)
	}
	if len(argv) == 0 {
		return Invocation{}, fmt.Errorf("empty command line %q", line)
	}
	return Invocation{CommandLine: line, Args: argv[1:]}, nil
}
