package agent_test

import (
	"os"
	"strings"
	"testing"
)

// The README holds what a newcomer needs, each as a block the doc tests
// run or check (docs_test.go): the tour, the test command CI runs, the
// Linux and Windows builds, and the two-node Linux and Windows configs.
func TestReadmeHasItsBlocks(t *testing.T) {
	var tour, test, build, winBuild bool
	configs := 0
	for _, b := range docBlocks(t) {
		if b.file != "README.md" {
			continue
		}
		switch {
		case b.kind == "sh" && strings.Contains(b.body, "\n./vipagent serve &"):
			tour = true
		case b.kind == "yaml" && b.attr == "":
			configs++
		}
		for _, l := range strings.Split(b.body, "\n") {
			switch {
			case b.kind != "sh":
			case toolchainLine(l) == "test":
				test = true
			case toolchainLine(l) == "build" && strings.Contains(l, "GOOS=windows") && strings.Contains(l, "vipagent.exe"):
				winBuild = true
			case toolchainLine(l) == "build":
				build = true
			}
		}
	}
	for what, ok := range map[string]bool{"the tour (a sh block with ./vipagent serve &)": tour, "the test command": test,
		"the build": build, "the Windows build (vipagent.exe)": winBuild, "two whole configs (Linux and Windows)": configs >= 2} {
		if !ok {
			t.Errorf("README lacks %s", what)
		}
	}
}

// copyFile copies from to to with mode, for tests that need a program or
// file of their own.
func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}
