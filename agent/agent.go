// Package agent is vipagent's composition root: Open builds everything the
// process needs in one place, in dependency order (logger, journal, report
// outbox, metrics, backends, peers, engine, HTTP API, scheduler); Serve
// starts it; Close undoes it in reverse. Only the cli package imports it.
package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/httpapi"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/journal/forensic"
	"github.com/vipagent/vipagent/agent/localchan"
	"github.com/vipagent/vipagent/agent/metrics"
	"github.com/vipagent/vipagent/agent/peer"
	"github.com/vipagent/vipagent/agent/report"
	"github.com/vipagent/vipagent/reactions/engine"
)

// Main is one running agent: built by Open, served by Serve, torn down by
// Close. Tests drive it directly.
type Main struct {
	Config  *config.Config
	Logger  zerolog.Logger
	Journal *journal.Journal
	Engine  *engine.Engine
	Handler http.Handler

	// Recovery is set when the journal was found damaged at open and
	// recovered (moved aside, salvaged into a fresh one).
	Recovery *forensic.Recovery
	// Unjournaled is set when an emergency run could not use the journal:
	// its actions are recorded only in journal.AppendUnjournaled's file.
	Unjournaled error

	logCloser io.Closer
	scratch   string // the scratch journal's directory, removed by Close
	outbox    *report.Outbox
	metrics   *metrics.Metrics
	pair      *metrics.Pair
	backends  map[string]engine.Backend
	peers     *peer.Client
	// jobs start with Serve and stop (in reverse order) in Close, before
	// the journal closes.
	jobs     []job
	server   *http.Server
	listener net.Listener
	// apiDeps built Handler; a reload builds the next one from them.
	apiDeps httpapi.Deps
	// live is what a reload swaps: the server serves live's handler.
	live     live
	serveErr chan error
}

// Options tune Open.
type Options struct {
	// LockTimeout is how long to wait for another process to release the
	// journal; `fire --direct` uses a short one.
	LockTimeout time.Duration
	// Stderr receives logs.
	Stderr io.Writer
	// Logger, when set, replaces the one built from the config.
	Logger *zerolog.Logger
	// Emergency lets a one-shot command act when the journal cannot be
	// opened or recovered: it then runs on a scratch journal and Main's
	// Unjournaled says why (see openJournal).
	Emergency bool
	// HeldIsUnusable, with Emergency, counts a journal that another
	// process still holds after LockTimeout as one that cannot be used.
	// Without it Open returns journal.ErrLocked, so that the caller can
	// wait for that process (see cli's openDirect).
	HeldIsUnusable bool
}

// Open builds an agent from a validated configuration, each part from the
// parts built before it. On error, whatever was opened is closed again.
func Open(cfg *config.Config, o Options) (_ *Main, err error) {
	m := &Main{Config: cfg}
	defer func() {
		if err != nil {
			m.closeResources()
		}
	}()
	m.Logger, m.logCloser = openLogger(cfg, o)

	if err := m.openJournal(o); err != nil {
		return nil, err
	}
	m.outbox = report.New(m.Journal, cfg, m.Logger)
	m.metrics = metrics.New(m.Journal, m.Logger)
	m.outbox.OnDelivery(m.metrics.Delivery)
	if m.Recovery != nil {
		m.metrics.JournalRecovered()
	}
	m.watchPair()

	vips, err := m.openBackends()
	if err != nil {
		return nil, err
	}
	if m.peers, err = newPeers(cfg); err != nil {
		return nil, err
	}
	m.stopNLBPeersThrough(watchedPeers{m.peers, m.pair})
	m.Engine = engine.New(engine.Config{
		Node:          cfg.Node,
		VIPs:          vips,
		Commands:      commands(cfg),
		Rules:         Rules(cfg),
		RMAddress:     rmAddresses(cfg),
		StepTimeout:   cfg.StepTimeout.D(),
		MaxInFlight:   cfg.Limits.MaxInFlight,
		Supersede:     cfg.Limits.Supersede,
		Retries:       cfg.Limits.Retries,
		CheckOnIntake: admitCallback(cfg),
		Journal:       m.Journal,
		Results:       m.results(o),
		Peers:         watchedPeers{m.peers, m.pair},
		Observer:      m.metrics,
		Logger:        m.Logger,
	})
	m.pair.CountLoad(m.load)
	m.apiDeps = httpapi.Deps{
		Config:   cfg,
		Engine:   m.Engine,
		Journal:  m.Journal,
		Logger:   m.Logger,
		Metrics:  m.metrics.Handler(),
		Reports:  m.outbox,
		Recovery: m.Recovery,
		Pair:     m.pairView,
		Failover: Failover(cfg),
	}
	m.Handler = httpapi.NewServer(m.apiDeps)
	m.live.handler.Store(&m.Handler)
	m.live.config.Store(cfg)
	sched, err := m.newScheduler()
	if err != nil {
		return nil, err
	}
	m.jobs = []job{m.reportDelivery(), sched, m.firstLook()}
	return m, nil
}

func openLogger(cfg *config.Config, o Options) (zerolog.Logger, io.Closer) {
	var (
		log    zerolog.Logger
		closer io.Closer = io.NopCloser(nil)
	)
	if o.Logger != nil {
		log = *o.Logger
	} else {
		if o.Stderr == nil {
			o.Stderr = os.Stderr
		}
		log, closer = newLogger(cfg.Log, o.Stderr)
	}
	return log.With().Str("node", cfg.Node).Logger(), closer
}

// Serve recovers interrupted events, then listens. It returns once the
// listener is up; Wait or Close end it.
func (m *Main) Serve(ctx context.Context) error {
	n, err := m.Engine.Recover()
	if err != nil {
		return err
	}
	if n > 0 {
		m.Logger.Warn().Int("events", n).Msg("resumed events left unfinished by the previous run")
	}
	if err := m.AnnounceRecovery(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	capped := newCappedListener(ln, m.Config.Limits.MaxConnections)
	ln = capped
	m.listener = ln
	m.server = &http.Server{
		Handler:           &m.live,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       m.Config.Limits.ReadTimeout.D(),
		// Each response also gets write_timeout from its first byte
		// (httpapi's boundWrites), so a long ?wait= still answers.
		WriteTimeout: m.Config.Limits.WriteTimeout.D(),
		// Strangers' connections close after each answer; this bounds
		// the trusted callers' keep-alives.
		IdleTimeout:    30 * time.Second,
		ConnState:      capped.track,
		MaxHeaderBytes: 32 << 10,
		ErrorLog:       serverLog(m.Logger),
		ConnContext:    localchan.ConnContext,
	}
	tlsCfg, err := serverTLS(m.Config.TLS)
	if err != nil {
		ln.Close()
		return err
	}
	var local net.Listener
	if m.Config.Local.Enabled() {
		if local, err = localchan.Listen(m.Config.Local); err != nil {
			ln.Close()
			return err
		}
	}
	for _, j := range m.jobs {
		if err := j.start(ctx); err != nil {
			ln.Close()
			if local != nil {
				local.Close()
			}
			return fmt.Errorf("start %s: %w", j.name, err)
		}
	}
	m.serveErr = make(chan error, 1)
	go func() {
		var err error
		if tlsCfg != nil {
			m.server.TLSConfig = tlsCfg
			err = m.server.ServeTLS(ln, "", "")
		} else {
			err = m.server.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		m.serveErr <- err
	}()
	if local != nil {
		// Plain HTTP: the kernel names the caller, and only the accounts
		// the socket's mode and directory let in can connect.
		go func() {
			if err := m.server.Serve(local); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.Logger.Error().Err(err).Str("socket", m.Config.Local.Socket).Msg("local channel stopped")
			}
		}()
		m.Logger.Info().Str("socket", m.Config.Local.Socket).Msg("local channel listening")
	}
	m.Logger.Info().Str("listen", ln.Addr().String()).Bool("tls", tlsCfg != nil).Strs("vips", m.Engine.VIPNames()).Msg("agent serving")
	return nil
}

// Wait blocks until ctx ends (nil) or the HTTP server stops by itself (its
// error). Close still shuts everything down afterwards.
func (m *Main) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-m.serveErr:
		m.serveErr <- err // for Close
		return err
	}
}

// Addr is the address the agent listens on.
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Close shuts down gracefully: intake answers 503, running steps may finish
// within the grace period, then the scheduler stops, the journal is flushed
// and closed. Safe to call more than once.
func (m *Main) Close(ctx context.Context) error {
	var errs []error
	if m.Engine != nil {
		if err := m.Engine.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	// Jobs (scheduler, report delivery) stop before the journal closes.
	for i := len(m.jobs) - 1; i >= 0; i-- {
		if m.jobs[i].stop != nil {
			if err := m.jobs[i].stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("stop %s: %w", m.jobs[i].name, err))
			}
		}
	}
	m.jobs = nil
	if m.server != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		if err := m.server.Shutdown(sctx); err != nil {
			m.server.Close()
		}
		cancel()
		if err := <-m.serveErr; err != nil {
			errs = append(errs, err)
		}
		m.server = nil
	}
	errs = append(errs, m.closeResources())
	return errors.Join(errs...)
}

func (m *Main) closeResources() error {
	var errs []error
	for _, b := range m.backends {
		if c, ok := b.(closer); ok {
			errs = append(errs, c.Close())
		}
	}
	m.backends = nil
	if m.Journal != nil {
		errs = append(errs, m.Journal.Close())
		m.Journal = nil
	}
	if m.scratch != "" {
		os.RemoveAll(m.scratch)
		m.scratch = ""
	}
	if m.logCloser != nil {
		m.logCloser.Close()
		m.logCloser = nil
	}
	return errors.Join(errs...)
}
