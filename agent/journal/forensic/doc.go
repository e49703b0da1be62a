// Package forensic reads journal files through bbolt's on-disk format
// (pages.go), by ReadAt and never the mmap, so that a damaged file gives
// errors, not a crash: the check before a journal is opened (Open), the
// `journal check` report (Check), the salvage of what a damaged file still
// holds into a new journal (Salvage) and the recovery at start that moves a
// damaged journal aside and salvages it (OpenOrRecover). It builds on
// package journal, which owns the file, its name, its buckets and the
// writing of a salvaged journal (journal.Restore).
package forensic
