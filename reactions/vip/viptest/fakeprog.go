package viptest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fake programs written in Go: the test binary, copied under a program's
// name, behaves as that program when it is started. They run on every OS,
// unlike the shell scripts of Write, and on Windows they record the command
// line exactly as Windows passed it, so a test can check the quoting a
// backend's argv became.

// Fake is the behaviour of one fake program. It gets the directory it was
// installed in (for its state), its arguments as it parsed them and its
// standard output, and returns its exit code.
type Fake func(dir string, args []string, stdout io.Writer) int

// invocationLog is the file, next to the fakes, that they append to.
const invocationLog = "invocations.jsonl"

// Invocation is one run of a fake program.
type Invocation struct {
	// CommandLine is the command line as Windows passed it to the program
	// (GetCommandLineW). Other systems pass argv, not a line: there it is
	// empty.
	CommandLine string `json:"command_line,omitempty"`
	// Args are the arguments after the program, as the program parsed them:
	// with CommandLineToArgvW's rules on Windows.
	Args []string `json:"args"`
}

// RunFakes goes first in a test package's TestMain. When this process is a
// copy made by InstallFake (its executable's base name, without .exe, names
// one of fakes), it records the invocation next to itself, runs that fake
// and exits with its code. Otherwise it returns, and the tests run.
func RunFakes(fakes map[string]Fake) {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	fake, ok := fakes[fakeName(exe)]
	if !ok {
		return
	}
	dir := filepath.Dir(exe)
	inv, err := thisInvocation()
	if err == nil {
		err = appendInvocation(filepath.Join(dir, invocationLog), inv)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "fake %s: %v\n", exe, err)
		os.Exit(125)
	}
	os.Exit(fake(dir, inv.Args, os.Stdout))
}

func fakeName(exe string) string {
	base := filepath.Base(exe)
	if strings.EqualFold(filepath.Ext(base), ".exe") {
		base = base[:len(base)-len(".exe")]
	}
	return strings.ToLower(base)
}

func appendInvocation(path string, inv Invocation) error {
	line, err := json.Marshal(inv)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// InstallFake puts a copy of the running test binary into dir as name
// (name.exe on Windows) and returns its path. Started, the copy behaves as
// the fake registered under name with RunFakes.
func InstallFake(t testing.TB, dir, name string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A copy, not a link: Windows cannot delete a link to the running
	// test binary, so t.TempDir could not be cleaned up.
	dst := filepath.Join(dir, name+exeSuffix)
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, src); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// Invocations reads, in order, what the fakes installed in dir recorded. No
// log means no run.
func Invocations(t testing.TB, dir string) []Invocation {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, invocationLog))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var invs []Invocation
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var inv Invocation
		if err := json.Unmarshal(sc.Bytes(), &inv); err != nil {
			t.Fatalf("%s: %v", invocationLog, err)
		}
		invs = append(invs, inv)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return invs
}

// Args are the arguments of every invocation, for tests that compare only
// those.
func Args(invs []Invocation) [][]string {
	var out [][]string
	for _, inv := range invs {
		out = append(out, inv.Args)
	}
	return out
}
