package journal

// replaceWhileOpen: Windows refuses to replace a file that is open (Go
// opens files without FILE_SHARE_DELETE) or mapped, so a compaction closes
// both files for the rename and opens the new one after it.
const replaceWhileOpen = false
