// Package schedule runs the agent's periodic jobs (reconcile, outbox drain,
// journal prune) with robfig/cron. Every job gets the daemon's context, a
// panic in a job is recovered and logged, a job still running when its next
// time comes is skipped rather than run twice, and Stop waits for running
// jobs, so the journal is never closed under one.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"
)

// Off disables a job in the configuration.
const Off = "off"

// Job is one periodic job.
type Job struct {
	Name string
	// Spec is a cron expression (seconds optional) or a descriptor such as
	// "@every 30s"; "off" or "" disables the job.
	Spec string
	// Run is the job; nil leaves the job out (its spec is still checked).
	Run func(ctx context.Context) error
}

var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Check reports whether spec is a schedule this package accepts.
func Check(spec string) error {
	if Disabled(spec) {
		return nil
	}
	_, err := parser.Parse(spec)
	return err
}

// Disabled reports whether spec turns its job off.
func Disabled(spec string) bool {
	s := strings.TrimSpace(spec)
	return s == "" || strings.EqualFold(s, Off)
}

// Scheduler runs jobs on their schedules between Start and Stop.
type Scheduler struct {
	log  zerolog.Logger
	c    *cron.Cron
	jobs []Job

	mu      sync.Mutex
	ctx     context.Context
	cancel  context.CancelFunc
	started bool
}

// New checks every schedule and returns a scheduler that has not started.
func New(log zerolog.Logger, jobs ...Job) (*Scheduler, error) {
	log = log.With().Str("component", "scheduler").Logger()
	cl := cronLogger{log}
	s := &Scheduler{
		log: log,
		// Recover goes inside SkipIfStillRunning: cron v3.0.1's skip wrapper
		// hands its token back without a defer, so a panic escaping through
		// it would leave the job skipped forever.
		c: cron.New(cron.WithParser(parser), cron.WithLogger(cl),
			cron.WithChain(cron.SkipIfStillRunning(cl), cron.Recover(cl))),
	}
	var errs []error
	for _, j := range jobs {
		if Disabled(j.Spec) {
			log.Info().Str("job", j.Name).Msg("job is off")
			continue
		}
		sched, err := parser.Parse(j.Spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("schedules.%s: %q: %w", j.Name, j.Spec, err))
			continue
		}
		if j.Run == nil {
			// A part of the agent that is not wired (no report outbox
			// yet): nothing to schedule, and say so.
			log.Info().Str("job", j.Name).Msg("job has nothing to run in this agent; left out")
			continue
		}
		s.c.Schedule(sched, s.wrap(j))
		s.jobs = append(s.jobs, j)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// Jobs lists the jobs that are on.
func (s *Scheduler) Jobs() []string {
	names := make([]string, len(s.jobs))
	for i, j := range s.jobs {
		names[i] = j.Name
	}
	return names
}

// wrap turns a job into a cron job that runs with the daemon's context and
// logs its error.
func (s *Scheduler) wrap(j Job) cron.Job {
	log := s.log.With().Str("job", j.Name).Logger()
	return cron.FuncJob(func() {
		s.mu.Lock()
		ctx := s.ctx
		s.mu.Unlock()
		if ctx == nil || ctx.Err() != nil {
			return
		}
		if err := j.Run(ctx); err != nil {
			log.Error().Err(err).Msg("scheduled job failed")
		}
	})
}

// Start runs the jobs until Stop; ctx is the daemon's context, handed to
// every run.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return
	}
	s.started = true
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.c.Start()
}

// Stop stops scheduling and waits for running jobs. When ctx ends first,
// the jobs' context is cancelled and Stop still waits for them to return
// (the journal must not close under a job), then reports ctx's error.
func (s *Scheduler) Stop(ctx context.Context) error {
	done := s.c.Stop().Done()
	s.mu.Lock()
	cancel := s.cancel
	s.mu.Unlock()
	select {
	case <-done:
		if cancel != nil {
			cancel()
		}
		return nil
	case <-ctx.Done():
	}
	if cancel != nil {
		cancel()
	}
	s.log.Warn().Msg("scheduled jobs still running at shutdown: cancelled them, waiting for them to return")
	<-done
	return fmt.Errorf("scheduler: jobs cancelled at shutdown: %w", ctx.Err())
}

// cronLogger adapts zerolog to cron's logger. Cron's routine messages are
// debug; a skipped run (the previous one still going) is a warning, since
// it means a job takes longer than its interval.
type cronLogger struct{ log zerolog.Logger }

func (l cronLogger) Info(msg string, kv ...any) {
	ev := l.log.Debug()
	if msg == "skip" {
		ev = l.log.Warn()
		msg = "job skipped: its previous run has not finished"
	}
	fields(ev, kv).Msg(msg)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	if msg == "panic" {
		msg = "scheduled job panicked (recovered)"
	}
	fields(l.log.Error().Err(err), kv).Msg(msg)
}

func fields(ev *zerolog.Event, kv []any) *zerolog.Event {
	for i := 0; i+1 < len(kv); i += 2 {
		ev = ev.Interface(fmt.Sprint(kv[i]), kv[i+1])
	}
	return ev
}
