//go:build !windows

package viptest

import "os"

const exeSuffix = ""

// thisInvocation is argv: other systems pass no command line.
func thisInvocation() (Invocation, error) {
	return Invocation{Args: append([]string{}, os.Args[1:]...)}, nil
}
