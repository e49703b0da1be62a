// Package command runs external programs for the VIP backends: argv only,
// never a shell, bounded by the context, and on timeout the whole process
// tree is stopped (a process group on Unix, a job object on Windows).
package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"time"

	"github.com/vipagent/vipagent/reactions"
)

// maxOutput bounds what is kept of a program's combined output.
const maxOutput = 64 << 10

// waitDelay is how long Wait waits for output pipes after the process was
// killed or exited, so that a grandchild holding them cannot hang a step.
const waitDelay = 500 * time.Millisecond

// Options tune one run.
type Options struct {
	// Env is added to the inherited environment.
	Env []string
	// Dir is the working directory; empty means the agent's.
	Dir string
}

// Run starts argv[0] with argv[1:] and waits for it. A non-zero exit, a
// failure to start and a context that ends first all return a
// *reactions.ExecError carrying argv, exit code and output; when the context
// ended, the error also wraps ctx.Err().
func Run(ctx context.Context, argv []string, o Options) (reactions.Exec, error) {
	res := reactions.Exec{Argv: append([]string(nil), argv...), ExitCode: -1}
	if len(argv) == 0 || argv[0] == "" {
		return res, &reactions.ExecError{Exec: res, Err: errors.New("empty command")}
	}
	if err := ctx.Err(); err != nil {
		return res, &reactions.ExecError{Exec: res, Err: err}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = o.Dir
	cmd.Env = environ(o.Env)
	var out limitedBuffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = waitDelay
	tree, err := startTree(cmd)
	if err != nil {
		res.Output = out.String()
		return res, &reactions.ExecError{Exec: res, Err: fmt.Errorf("start: %w", err)}
	}
	done := make(chan struct{})
	var killedByCtx bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			killedByCtx = true
			tree.kill()
		case <-done:
		}
	}()
	waitErr := cmd.Wait()
	close(done)
	wg.Wait()
	// Whatever the program left behind (a .bat's children, a backgrounded
	// grandchild) goes with it.
	tree.kill()
	tree.close()

	res.Output = out.String()
	if cmd.ProcessState != nil && !killedByCtx {
		// A killed program has no exit code of its own: -1, as Unix
		// reports a signal. On Windows the code would be the one passed to
		// TerminateJobObject, which reads like the program's failure.
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	switch {
	case killedByCtx:
		return res, &reactions.ExecError{Exec: res, Err: ctx.Err()}
	case waitErr != nil:
		return res, &reactions.ExecError{Exec: res, Err: waitErr}
	}
	return res, nil
}

// limitedBuffer keeps the first maxOutput bytes written to it.
type limitedBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	truncated bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := maxOutput - b.buf.Len()
	if room <= 0 {
		b.truncated = true
		return len(p), nil
	}
	if len(p) > room {
		b.buf.Write(p[:room])
		b.truncated = true
		return len(p), nil
	}
	b.buf.Write(p)
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	text := programText(b.buf.Bytes())
	if b.truncated {
		return text + "\n[output truncated]"
	}
	return text
}
