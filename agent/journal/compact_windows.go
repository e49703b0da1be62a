package journal

// compactWhileOpen: Windows refuses to replace a file that is open and
// mapped; the budget is then kept by pruning alone (bbolt reuses the freed
// pages, so the file does not grow past it).
const compactWhileOpen = false
