//go:build !windows

package journal

// replaceWhileOpen: a file may be renamed over while it is open and
// mapped, so a compaction swaps the files without closing the journal.
const replaceWhileOpen = true
