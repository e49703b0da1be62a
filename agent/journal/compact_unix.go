//go:build !windows

package journal

// compactWhileOpen: a file may be renamed over while it is open and mapped.
const compactWhileOpen = true
