// Package agenttest is the tests' toolkit, named like the standard
// library's httptest: what the agent's tests (and viptest, which builds on
// it) would otherwise each write again.
//
//   - Eventually waits on a condition (Poll, for a harness that records a
//     miss instead of failing): no test sleeps to synchronise.
//   - Require skips a test whose requirement is missing, naming it, except
//     under CI=true, where it fails; RequireProgram and RequireBinary are
//     built on it.
//   - Build and Start run the vipagent binary itself: Start waits until
//     its /readyz answers and kills it when the test ends. The binary comes
//     from VIPAGENT_EXE when it is set, which is how the Windows test
//     binaries get one under Wine (scripts/test-windows.sh builds
//     vipagent.exe and sets it): a test there has no go command. Otherwise
//     it is built once with `go build`.
//   - WriteConfig, SingleNode and FakeVIPs are the shared configurations.
//   - Buffer holds a log that a process writes while the test reads it.
//   - StartEcho and StartProber measure who answers at a VIP, as a client
//     on the network sees it.
package agenttest
