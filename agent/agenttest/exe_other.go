//go:build !windows

package agenttest

const exeSuffix = ""
