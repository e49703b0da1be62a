// Package viptest is test support for the VIP backends, named like the
// standard library's httptest and fstest.
//
// On every system it writes small fake programs for the command backends
// (shell scripts on Unix, fakeexec.go), reads the argv they logged, bounds
// a test's calls and checks that a killed process is gone (by /proc on
// Linux, through OpenProcess and WaitForSingleObject on Windows). Its Go
// fakes (fakeprog.go) are the test binary itself copied under a program's
// name: they run on Windows too and record the command line exactly as
// Windows passed it. On Linux it also builds the lab of scripts/lab.sh
// (three network namespaces rm1, rm2 and client on a bridge in a fourth
// namespace) under a unique prefix, tears it down when the test ends, and
// runs commands and Go functions inside its namespaces (netlab_linux.go).
// Backend tests, the end-to-end test and the benchmark share it.
package viptest
