package viptest

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// A process tree to kill: the Sleeper fake starts a copy of itself, which
// starts another, and all three sleep. Each writes its PID to pid.<depth>
// in the fake's directory (pid.0 is the program the backend started, pid.1
// its child, pid.2 the grandchild), and the first one writes its parent's
// PID to ppid.0 (cmd.exe, when a batch file started it).

// TreeDepth is the number of processes in a Sleeper tree.
const TreeDepth = 3

// sleeperDepthEnv tells a copy of the Sleeper how deep it is.
const sleeperDepthEnv = "VIPTEST_SLEEPER_DEPTH"

// sleepFor bounds a Sleeper that nobody kills, so that a failed test leaves
// nothing behind for long. It is far longer than ReturnsAfterDeadline's
// grace, so a tree that was not killed fails the test instead of ending on
// its own.
const sleepFor = 5 * time.Minute

// Sleeper is the Fake that builds the tree. It never returns before
// sleepFor unless killed.
func Sleeper(dir string, args []string, stdout io.Writer) int {
	depth, _ := strconv.Atoi(os.Getenv(sleeperDepthEnv))
	if depth == 0 {
		if err := writeAtomic(filepath.Join(dir, "ppid.0"), strconv.Itoa(os.Getppid())); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 125
		}
	}
	if depth+1 < TreeDepth {
		self, err := os.Executable()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 125
		}
		child := exec.Command(self, "child")
		child.Env = append(os.Environ(), sleeperDepthEnv+"="+strconv.Itoa(depth+1))
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 125
		}
	}
	// Written last: once pid.2 exists the whole tree runs.
	if err := writeAtomic(filepath.Join(dir, "pid."+strconv.Itoa(depth)), strconv.Itoa(os.Getpid())); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 125
	}
	fmt.Fprintf(stdout, "sleeper %d sleeping\n", depth)
	time.Sleep(sleepFor)
	return 0
}

// writeAtomic makes data appear at path whole or not at all.
func writeAtomic(path, data string) error {
	if err := os.WriteFile(path+".tmp", []byte(data), 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// TreePIDFiles are the files the Sleeper tree in dir writes its PIDs to.
func TreePIDFiles(dir string) []string {
	files := make([]string, TreeDepth)
	for i := range files {
		files[i] = filepath.Join(dir, "pid."+strconv.Itoa(i))
	}
	return files
}

// TreeDeadline returns a context whose deadline passes as soon as the
// Sleeper tree in dir is up, or after limit if it never comes up. A step
// run with it times out exactly when there is a whole tree to kill, on a
// fast machine or a slow one; its Err is context.DeadlineExceeded, like a
// real step deadline's.
func TreeDeadline(t testing.TB, dir string, limit time.Duration) context.Context {
	c := &firedDeadline{done: make(chan struct{}), deadline: time.Now().Add(limit)}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(c.done)
		last := TreePIDFiles(dir)[TreeDepth-1]
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		expire := time.NewTimer(limit)
		defer expire.Stop()
		for {
			if _, err := os.Stat(last); err == nil {
				return
			}
			select {
			case <-tick.C:
			case <-expire.C:
				return
			case <-stop:
				return
			}
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait() })
	return c
}

// firedDeadline is a context whose deadline passes when done is closed.
type firedDeadline struct {
	done     chan struct{}
	deadline time.Time
}

func (c *firedDeadline) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *firedDeadline) Done() <-chan struct{}       { return c.done }
func (c *firedDeadline) Value(any) any               { return nil }
func (c *firedDeadline) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// ReturnsAfterDeadline runs f, a call bounded by ctx, and fails the test if
// f is still running grace after ctx ended: a step whose process tree was
// not killed at its deadline would wait for the tree to end on its own.
func ReturnsAfterDeadline(t testing.TB, ctx context.Context, grace time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	select {
	case <-done:
	case <-time.After(grace):
		t.Fatalf("still running %s after the deadline: the process tree was not killed", grace)
	}
}
