// Package viptest is test support for the VIP backends, named like the
// standard library's httptest and fstest.
//
// On every system it writes small fake programs for the command backends,
// reads the argv they logged and bounds a test's calls (viptest.go). On
// Linux it also builds the lab of scripts/lab.sh (three network namespaces
// rm1, rm2 and client on a bridge in a fourth namespace) under a unique
// prefix, tears it down when the test ends, and runs commands and Go
// functions inside its namespaces (netlab_linux.go). Backend tests, the
// end-to-end test and the benchmark share it.
package viptest
