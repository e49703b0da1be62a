// Package agent is vipagent's composition root: it opens everything the
// process needs in one place (logger, journal, backends, peers, engine,
// HTTP API, scheduler, reporter) and closes it in reverse order. Only the
// main package imports it.
package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/httpapi"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/peer"
	"github.com/vipagent/vipagent/agent/report"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/rules"
)

// Main is one running agent: built by Open, served by Serve, torn down by
// Close. Tests drive it directly.
type Main struct {
	Config  *config.Config
	Logger  zerolog.Logger
	Journal *journal.Journal
	Engine  *engine.Engine
	Handler http.Handler

	logCloser io.Closer
	peers     *peer.Client
	outbox    *report.Outbox
	backends  map[string]engine.Backend
	// Filled by openReporting (reporting.go) and openMonitoring
	// (monitoring.go) before the engine and the API are built.
	routes   []httpapi.Route
	metrics  http.Handler
	observer engine.Observer
	// jobs start with Serve and stop (in reverse order) in Close, before
	// the journal closes.
	jobs     []job
	draining atomic.Bool
	server   *http.Server
	listener net.Listener
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
}

// Open builds an agent from a validated configuration. On error, whatever
// was opened is closed again.
func Open(cfg *config.Config, o Options) (_ *Main, err error) {
	m := &Main{Config: cfg, backends: map[string]engine.Backend{}}
	defer func() {
		if err != nil {
			m.closeResources()
		}
	}()
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Logger != nil {
		m.Logger, m.logCloser = *o.Logger, io.NopCloser(nil)
	} else {
		m.Logger, m.logCloser = newLogger(cfg.Log, o.Stderr)
	}
	m.Logger = m.Logger.With().Str("node", cfg.Node).Logger()

	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	m.Journal, err = journal.Open(filepath.Join(cfg.DataDir, "journal.db"), journal.Options{
		LockTimeout: o.LockTimeout,
		Node:        cfg.Node,
	})
	if err != nil {
		return nil, err
	}
	if err := m.openReporting(); err != nil {
		return nil, err
	}
	if err := m.openMonitoring(); err != nil {
		return nil, err
	}

	vips := map[string]engine.VIP{}
	for _, name := range config.SortedKeys(cfg.VIPs) {
		v := cfg.VIPs[name]
		b, err := newBackend(name, v, cfg.DataDir)
		if err != nil {
			return nil, err
		}
		m.backends[name] = b
		vips[name] = engine.VIP{Backend: b, Kind: v.Backend, Timeout: v.Timeout.D()}
	}

	peers := map[string]peer.Node{}
	rmAddr := map[string]string{}
	for name, n := range cfg.Nodes {
		rmAddr[name] = n.RMAddress
		if name != cfg.Node {
			peers[name] = peer.Node{URL: n.URL, Token: n.Token.Value()}
		}
	}
	tlsClient, err := clientTLS(cfg.TLS)
	if err != nil {
		return nil, err
	}
	m.peers = peer.New(peers, tlsClient)
	commands := map[string]engine.Command{}
	for name, c := range cfg.Commands {
		commands[name] = engine.Command{Argv: c.Argv, Dir: c.Dir, Timeout: c.Timeout.D()}
	}
	m.Engine = engine.New(engine.Config{
		Node:        cfg.Node,
		VIPs:        vips,
		Commands:    commands,
		Rules:       Rules(cfg),
		RMAddress:   rmAddr,
		StepTimeout: cfg.StepTimeout.D(),
		MaxInFlight: cfg.Limits.MaxInFlight,
		Supersede:   cfg.Limits.Supersede,
		Retries:     cfg.Limits.Retries,
		Journal:     m.Journal,
		Peers:       m.peers,
		Observer:    m.observer,
		Logger:      m.Logger,
	})
	m.Handler = httpapi.NewServer(httpapi.Deps{
		Config:   cfg,
		Engine:   m.Engine,
		Journal:  m.Journal,
		Logger:   m.Logger,
		Draining: m.draining.Load,
		Metrics:  m.metrics,
		Extra:    m.routes,
	})
	return m, nil
}

// Rules turns the configured reactions into the engine's rules.
func Rules(c *config.Config) rules.Rules {
	var rs rules.Rules
	for _, r := range c.Reactions {
		rule := rules.Rule{Name: r.Name, Match: rules.Match{
			Condition: r.Match.Condition, EventID: r.Match.EventID, Application: r.Match.Application,
			Host: r.Match.Host, Severity: r.Match.Severity,
		}}
		if len(r.Match.Labels) > 0 {
			rule.Match.Labels = map[string][]string{}
			for k, v := range r.Match.Labels {
				rule.Match.Labels[k] = v
			}
		}
		for _, s := range r.Steps {
			step := reactions.Step{Node: s.On, Force: s.Force, Timeout: s.Timeout.D()}
			switch {
			case s.Enable != "":
				step.Action, step.VIP = reactions.ActionEnable, s.Enable
			case s.Disable != "":
				step.Action, step.VIP = reactions.ActionDisable, s.Disable
			default:
				step.Action, step.Command = reactions.ActionRun, s.Run
			}
			if step.Node == "" {
				step.Node = c.Node
			}
			for _, w := range s.When {
				step.When = append(step.When, reactions.Condition(w))
			}
			rule.Steps = append(rule.Steps, step)
		}
		rs = append(rs, rule)
	}
	return rs
}

func clientTLS(t config.TLS) (*tls.Config, error) {
	if t.CA == "" && t.Cert == "" {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CA != "" {
		pem, err := os.ReadFile(t.CA)
		if err != nil {
			return nil, fmt.Errorf("tls.ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca: no certificates in %s", t.CA)
		}
		c.RootCAs = pool
	}
	if t.Cert != "" {
		// The same certificate identifies this agent to its peers (mTLS).
		cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
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
	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.listener = ln
	m.server = &http.Server{
		Handler:           m.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       m.Config.Limits.ReadTimeout.D(),
		WriteTimeout:      m.Config.Limits.WriteTimeout.D(),
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          nil,
	}
	tlsCfg, err := serverTLS(m.Config.TLS)
	if err != nil {
		ln.Close()
		return err
	}
	for _, j := range m.jobs {
		if err := j.start(ctx); err != nil {
			ln.Close()
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
	m.Logger.Info().Str("listen", ln.Addr().String()).Bool("tls", tlsCfg != nil).Strs("vips", m.Engine.VIPNames()).Msg("agent serving")
	return nil
}

// Addr is the address the agent listens on.
func (m *Main) Addr() string { return m.listener.Addr().String() }

func serverTLS(t config.TLS) (*tls.Config, error) {
	if t.Cert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if t.ClientCA != "" {
		pem, err := os.ReadFile(t.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("tls.client_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.client_ca: no certificates in %s", t.ClientCA)
		}
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// Close shuts down gracefully: intake answers 503, running steps may finish
// within the grace period, then the scheduler stops, the journal is flushed
// and closed. Safe to call more than once.
func (m *Main) Close(ctx context.Context) error {
	m.draining.Store(true)
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
	if m.logCloser != nil {
		m.logCloser.Close()
		m.logCloser = nil
	}
	return errors.Join(errs...)
}

// job is a background part of the agent that runs while it serves.
type job struct {
	name  string
	start func(ctx context.Context) error
	// stop returns once the job has stopped.
	stop func(ctx context.Context) error
}
