// Package netlab is test support for the Linux VIP backends: it builds the
// lab of scripts/lab.sh (three network namespaces rm1, rm2 and client on a
// bridge in a fourth namespace) under a unique prefix, tears it down when the
// test ends, and runs commands and Go functions inside its namespaces. Tests,
// the end-to-end test and the benchmark share it. It is Linux only.
package netlab
