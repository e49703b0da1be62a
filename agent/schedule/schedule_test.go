package schedule_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/schedule"
)

// The scheduler's tests run in a synctest bubble: cron's goroutine, its
// timer and the jobs' goroutines all live in it, so "@every 1s" fires at
// each whole second of the bubble's clock, which moves only when every
// goroutine in it is blocked. A test sleeps to let the schedule's time pass
// (the sleep is the schedule under test and takes no real time), then
// synctest.Wait lets the runs due by then finish or block.

func TestPanicIsRecovered(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var logs agenttest.Buffer
		var runs atomic.Int32
		s, err := schedule.New(zerolog.New(&logs), schedule.Job{Name: "boom", Spec: "@every 1s", Run: func(context.Context) error {
			runs.Add(1)
			panic("job exploded")
		}})
		if err != nil {
			t.Fatal(err)
		}
		s.Start(context.Background())
		// A second run proves the scheduler survived the first panic.
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := runs.Load(); got != 2 {
			t.Errorf("%d runs of the panicking job in 2 s, want 2", got)
		}
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "job exploded") || !strings.Contains(logs.String(), "panicked (recovered)") {
			t.Errorf("panic not logged:\n%s", logs.String())
		}
	})
}

func TestSlowJobNotRunTwiceAtOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var logs agenttest.Buffer
		var running, maxRunning, runs atomic.Int32
		release := make(chan struct{})
		s, err := schedule.New(zerolog.New(&logs), schedule.Job{Name: "slow", Spec: "@every 1s", Run: func(ctx context.Context) error {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				m := maxRunning.Load()
				if n <= m || maxRunning.CompareAndSwap(m, n) {
					break
				}
			}
			runs.Add(1)
			<-release
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		s.Start(context.Background())
		// The first run (at 1 s) blocks; the ticks at 2 s and 3 s find it
		// running and skip.
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if got := strings.Count(logs.String(), "job skipped"); got != 2 {
			t.Errorf("%d skipped runs in 3 s, want 2:\n%s", got, logs.String())
		}
		close(release)
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := maxRunning.Load(); got != 1 {
			t.Errorf("%d runs at once, want 1", got)
		}
		if got := runs.Load(); got != 1 {
			t.Errorf("%d runs, want 1", got)
		}
	})
}

func TestStopWaitsForRunningJob(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		started := make(chan struct{})
		var finished atomic.Bool
		s, err := schedule.New(zerolog.Nop(), schedule.Job{Name: "busy", Spec: "@every 1s", Run: func(ctx context.Context) error {
			select {
			case started <- struct{}{}:
			default:
				return nil
			}
			time.Sleep(300 * time.Millisecond) // the job's work, which Stop must wait for
			finished.Store(true)
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		s.Start(context.Background())
		<-started // the job is running
		stopping := time.Now()
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !finished.Load() {
			t.Error("Stop returned while the job was still running")
		}
		if d := time.Since(stopping); d != 300*time.Millisecond {
			t.Errorf("Stop returned after %s, want when the job ended (300ms)", d)
		}
	})
}

// When the grace period ends, the jobs' context is cancelled and Stop still
// waits for them to return.
func TestStopCancelsAfterGrace(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		started := make(chan struct{}, 1)
		var returned atomic.Bool
		s, err := schedule.New(zerolog.Nop(), schedule.Job{Name: "stubborn", Spec: "@every 1s", Run: func(ctx context.Context) error {
			select {
			case started <- struct{}{}:
			default:
			}
			<-ctx.Done()
			time.Sleep(50 * time.Millisecond) // a job slow to return once cancelled
			returned.Store(true)
			return ctx.Err()
		}})
		if err != nil {
			t.Fatal(err)
		}
		daemon, cancelDaemon := context.WithCancel(context.Background())
		defer cancelDaemon()
		s.Start(daemon)
		<-started
		stopping := time.Now()
		grace, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err = s.Stop(grace)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Stop = %v, want the grace deadline", err)
		}
		if !returned.Load() {
			t.Error("Stop returned before the cancelled job did")
		}
		if d := time.Since(stopping); d != 150*time.Millisecond {
			t.Errorf("Stop returned after %s, want the grace (100ms) and the job's return (50ms)", d)
		}
	})
}

// Jobs get the daemon's context.
func TestJobGetsDaemonContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		type key struct{}
		got := make(chan any, 1)
		s, err := schedule.New(zerolog.Nop(), schedule.Job{Name: "ctx", Spec: "@every 1s", Run: func(ctx context.Context) error {
			select {
			case got <- ctx.Value(key{}):
			default:
			}
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		s.Start(context.WithValue(context.Background(), key{}, "daemon"))
		v := <-got
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if v != "daemon" {
			t.Errorf("job context value %v, want daemon", v)
		}
	})
}

func TestSpecs(t *testing.T) {
	run := func(context.Context) error { return nil }
	tests := []struct {
		name     string
		jobs     []schedule.Job
		wantJobs []string
		wantErr  string
	}{
		{"descriptors, cron with and without seconds", []schedule.Job{
			{Name: "a", Spec: "@every 30s", Run: run}, {Name: "b", Spec: "*/5 * * * *", Run: run},
			{Name: "c", Spec: "0 */5 * * * *", Run: run}, {Name: "d", Spec: "@hourly", Run: run},
		}, []string{"a", "b", "c", "d"}, ""},
		{"off and empty are left out", []schedule.Job{
			{Name: "a", Spec: "off", Run: run}, {Name: "b", Spec: "OFF", Run: run}, {Name: "c", Spec: "", Run: run}, {Name: "d", Spec: "@every 1m", Run: run},
		}, []string{"d"}, ""},
		{"nil job left out, its spec still checked", []schedule.Job{
			{Name: "drain_outbox", Spec: "@every 5s"}, {Name: "x", Spec: "@every 1m", Run: run},
		}, []string{"x"}, ""},
		{"every bad spec reported", []schedule.Job{
			{Name: "reconcile", Spec: "every 30s", Run: run}, {Name: "prune", Spec: "@every banana"},
		}, nil, "schedules.reconcile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := schedule.New(zerolog.Nop(), tt.jobs...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "schedules.prune") {
					t.Fatalf("New = %v, want errors for reconcile and prune", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(s.Jobs(), ","); got != strings.Join(tt.wantJobs, ",") {
				t.Errorf("jobs %s, want %s", got, strings.Join(tt.wantJobs, ","))
			}
		})
	}
}
