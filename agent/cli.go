package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/httpapi"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

// Version is set at build time with -ldflags "-X ...agent.Version=v1.2.3".
var Version = "dev"

const usage = `vipagent moves a Resource Manager's virtual IP safely.

Usage:
  vipagent serve    [--config FILE] [--listen ADDR] [--data DIR]
  vipagent demo     run the built-in demo: start an agent, fire alarms, replay, stop
  vipagent fire     --condition NAME | --event-id ID --application APP
                    [--host H] [--severity S] [--text T] [--id KEY] [--label k=v]...
                    [--agent URL] [--direct] [--json] [--wait DURATION]
  vipagent failover enable|disable [MEMBERID]
  vipagent replay   ID [--dry-run]
  vipagent events   list [--status S] [--limit N] | show ID
  vipagent vip      status [NAME] | enable NAME [--force] | disable NAME
  vipagent reports  list [--state S] [--limit N] | retry ID
  vipagent config   check
  vipagent genesys  --out DIR
  vipagent version

Every command takes --config FILE (default: the built-in configuration,
node rm1 with VIP rm-vip on the fake backend) and, except serve, talks to
the local agent over HTTP (--agent URL, default from the config's listen
address); when no agent answers, it runs in-process on the same journal.
Genesys' standard arguments (-host -port -app -backup_host -backup_port
-lmspath -transport-port -transport-address), added by LCA, are accepted
anywhere and recorded.

Exit codes:
  0  succeeded
  1  a step failed or timed out (or the result is not known yet)
  2  bad usage, configuration or input
  3  no reaction rule matched the alarm
  4  no agent answered and running in-process was impossible
`

// Env is what a command sees of the process.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Run is the whole vipagent command: main only builds a context and calls it.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	env := Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	args, gargs := SplitGenesysArgs(args)
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitf(ExitUsage, "no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, gargs, env)
	case "demo":
		return cmdDemo(ctx, rest, env)
	case "fire":
		return cmdFire(ctx, rest, gargs, env)
	case "failover":
		return cmdFailover(ctx, rest, gargs, env)
	case "replay":
		return cmdReplay(ctx, rest, env)
	case "events":
		return cmdEvents(ctx, rest, env)
	case "vip":
		return cmdVIP(ctx, rest, env)
	case "config":
		return cmdConfig(rest, env)
	case "genesys":
		return cmdGenesys(rest, env)
	case "reports":
		return cmdReports(ctx, rest, env)
	case "version", "--version":
		fmt.Fprintln(stdout, "vipagent", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return exitf(ExitUsage, "unknown command %q", cmd)
}

func version() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return Version
}

// common are the flags every command has.
type common struct {
	config string
	data   string
	agent  string
	token  string
	direct bool
	json   bool
}

func newFlags(name string, env Env, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprint(env.Stderr, usage) }
	fs.StringVar(&c.config, "config", "", "configuration file (default: built-in)")
	fs.StringVar(&c.data, "data", "", "data directory (default: the config's data_dir)")
	fs.StringVar(&c.agent, "agent", "", "the local agent's URL (default: from the config's listen address)")
	fs.StringVar(&c.token, "token", "", "bearer token for the agent (default: $VIPAGENT_TOKEN, else one from the config)")
	fs.BoolVar(&c.direct, "direct", false, "run in-process on the journal instead of asking the agent")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	return fs
}

// parse parses flags and allows them after positional arguments too
// ("replay ID --dry-run").
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &ExitError{Code: ExitOK, Err: err}
			}
			return nil, exitf(ExitUsage, "%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func loadConfig(c common, env Env) (*config.Config, error) {
	cfg, err := config.Load(c.config, env.Getenv)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	if c.data != "" {
		cfg.DataDir = c.data
	}
	if probs := checkBackends(cfg); len(probs) > 0 {
		return nil, &ExitError{Code: ExitUsage, Err: config.Problems(probs)}
	}
	return cfg, nil
}

func cmdServe(ctx context.Context, args []string, gargs map[string]string, env Env) error {
	var c common
	fs := newFlags("serve", env, &c)
	listen := fs.String("listen", "", "listen address (default: the config's listen, "+config.DefaultListen+")")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(c, env)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if err := CheckExposure(cfg); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	m, err := Open(cfg, Options{Stderr: env.Stderr})
	if err != nil {
		return err
	}
	if len(gargs) > 0 {
		m.Logger.Info().Interface("genesys_args", gargs).Msg("started with Genesys arguments")
	}
	if c.config == "" {
		m.Logger.Info().Msg("using the built-in configuration (fake backend): see vipagent --help")
	}
	if err := m.Serve(ctx); err != nil {
		m.Close(context.Background())
		return err
	}
	var serveErr error
	select {
	case <-ctx.Done():
		m.Logger.Info().Msg("stopping: intake closed, letting running steps finish")
	case serveErr = <-m.serveErr:
		m.serveErr <- serveErr
	}
	gctx, cancel := context.WithTimeout(context.Background(), cfg.Limits.ShutdownGrace.D())
	defer cancel()
	err = m.Close(gctx)
	m.Logger.Info().Err(err).Msg("stopped")
	return errors.Join(serveErr, err)
}

// CheckExposure refuses to listen beyond loopback without TLS or without
// tokens, unless the config says insecure: true.
func CheckExposure(cfg *config.Config) error {
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if isLoopback(host) || cfg.Insecure {
		return nil
	}
	var missing []string
	if cfg.TLS.Cert == "" {
		missing = append(missing, "TLS (tls.cert, tls.key)")
	}
	if len(cfg.Auth.Tokens) == 0 {
		missing = append(missing, "tokens (auth.tokens)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: refusing to listen on %s without %s; configure them or set insecure: true",
			reactions.ErrInvalid, cfg.Listen, strings.Join(missing, " and "))
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// client talks to the local agent, or runs the same request in-process on
// the journal when no agent answers.
type client struct {
	env    Env
	c      common
	cfg    *config.Config
	base   string
	token  string
	direct *Main
	// explicit is set when --agent or $VIPAGENT_AGENT named the agent.
	explicit bool
}

func newClient(c common, env Env) (*client, error) {
	cfg, err := loadConfig(c, env)
	if err != nil {
		return nil, err
	}
	cl := &client{env: env, c: c, cfg: cfg, base: c.agent, token: c.token}
	if cl.base == "" {
		cl.base = env.Getenv("VIPAGENT_AGENT")
	}
	// An agent named explicitly is the one wanted: no falling back to an
	// in-process run on whatever this config's journal is.
	cl.explicit = cl.base != ""
	if cl.base == "" {
		cl.base = agentURL(cfg)
	}
	if cl.token == "" {
		cl.token = env.Getenv("VIPAGENT_TOKEN")
	}
	if cl.token == "" {
		cl.token = pickToken(cfg)
	}
	return cl, nil
}

func agentURL(cfg *config.Config) string {
	host, port, _ := net.SplitHostPort(cfg.Listen)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if cfg.TLS.Cert != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// pickToken uses the strongest configured token: the CLI runs on the agent's
// host with the agent's configuration.
func pickToken(cfg *config.Config) string {
	best := ""
	for _, want := range []string{config.RoleAdmin, config.RoleTrigger} {
		for _, t := range cfg.Auth.Tokens {
			if t.Role == want && best == "" {
				best = t.Token.Value()
			}
		}
	}
	return best
}

// do sends one request. With --direct, or when nothing answers at the
// agent's address, the request is served in-process.
func (cl *client) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return 0, nil, err
		}
	}
	if !cl.c.direct && cl.direct == nil {
		code, resp, err := cl.send(ctx, &http.Client{Timeout: 2 * time.Minute}, cl.base, method, path, data)
		if err == nil {
			return code, resp, nil
		}
		if !noAnswer(err) {
			return 0, nil, exitf(ExitFailed, "agent at %s: %v", cl.base, err)
		}
		if cl.explicit {
			return 0, nil, exitf(ExitNoAgent, "no agent answered at %s (%v); not running in-process because the agent was named explicitly (use --direct for that)", cl.base, rootCause(err))
		}
		fmt.Fprintf(cl.env.Stderr, "vipagent: no agent answered at %s (%v); running in-process on %s\n", cl.base, rootCause(err), cl.cfg.DataDir)
	}
	if cl.direct == nil {
		m, err := Open(cl.cfg, Options{LockTimeout: 300 * time.Millisecond, Stderr: cl.env.Stderr})
		if err != nil {
			if errors.Is(err, journal.ErrLocked) {
				return 0, nil, exitf(ExitNoAgent, "no agent answered at %s and another process holds the journal in %s: is the agent hung? (%v)", cl.base, cl.cfg.DataDir, err)
			}
			return 0, nil, exitf(ExitNoAgent, "no agent answered and running in-process failed: %v", err)
		}
		cl.direct = m
	}
	hc := &http.Client{Transport: handlerTransport{cl.direct.Handler}}
	return cl.send(ctx, hc, "http://in-process", method, path, data)
}

func (cl *client) send(ctx context.Context, hc *http.Client, base, method, path string, data []byte) (int, []byte, error) {
	var rd io.Reader
	if data != nil {
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if data != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, out, err
}

// close ends the in-process agent, if one was started, after its events
// finished.
func (cl *client) close() {
	if cl.direct != nil {
		ctx, cancel := context.WithTimeout(context.Background(), cl.cfg.Limits.ShutdownGrace.D())
		defer cancel()
		cl.direct.Close(ctx)
		cl.direct = nil
	}
}

// noAnswer reports whether err means nothing listens at the address.
func noAnswer(err error) bool {
	var ne *net.OpError
	if errors.As(err, &ne) && ne.Op == "dial" {
		return true
	}
	var ue *url.Error
	return errors.As(err, &ue) && ue.Timeout()
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// handlerTransport serves requests with an in-process handler.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// apiError turns an error answer into an ExitError.
func apiError(code int, body []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	ec := ExitFailed
	switch {
	case code == http.StatusBadRequest || code == http.StatusNotFound || code == http.StatusUnsupportedMediaType || code == http.StatusRequestEntityTooLarge:
		ec = ExitUsage
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		ec = ExitUsage
	}
	return exitf(ec, "agent answered %d: %s", code, msg)
}

// fetch does one request that must answer 200. With --json it prints the
// answer as it came and returns printed=true; otherwise it decodes it into
// dst for the caller to print.
func (cl *client) fetch(ctx context.Context, method, path string, body, dst any) (printed bool, err error) {
	code, resp, err := cl.do(ctx, method, path, body)
	if err != nil {
		return false, err
	}
	if code != http.StatusOK {
		return false, apiError(code, resp)
	}
	if cl.c.json {
		cl.env.Stdout.Write(resp)
		return true, nil
	}
	return false, json.Unmarshal(resp, dst)
}

// printResult prints an event result (or a 202) and returns the exit error.
func (cl *client) printResult(code int, body []byte) error {
	if code == http.StatusAccepted {
		if cl.c.json {
			cl.env.Stdout.Write(body)
		} else {
			var acc struct {
				EventID  string `json:"event_id"`
				Location string `json:"location"`
			}
			json.Unmarshal(body, &acc)
			fmt.Fprintf(cl.env.Stdout, "event %s accepted and still running; see %s\n", acc.EventID, acc.Location)
		}
		return exitf(ExitFailed, "result not known yet")
	}
	var res reactions.Result
	if err := json.Unmarshal(body, &res); err != nil || res.EventID == "" {
		return apiError(code, body)
	}
	if cl.c.json {
		cl.env.Stdout.Write(body)
	} else {
		PrintResult(cl.env.Stdout, &res)
	}
	if c := exitForStatus(res.Status); c != ExitOK {
		return exitf(c, "event %s %s", res.EventID, res.Status)
	}
	return nil
}

// PrintResult writes a result for people.
func PrintResult(w io.Writer, r *reactions.Result) {
	dup := ""
	if r.Duplicate {
		dup = " (duplicate: answered from the journal, nothing executed)"
	}
	if r.DryRun {
		dup = " (dry run: nothing executed)"
	}
	fmt.Fprintf(w, "event %s on %s: %s%s\n", r.EventID, r.Node, r.Status, dup)
	if r.Reaction != "" {
		fmt.Fprintf(w, "  reaction: %s\n", r.Reaction)
	}
	if r.ReplayOf != "" && !r.DryRun {
		fmt.Fprintf(w, "  replay of: %s\n", r.ReplayOf)
	}
	for _, s := range r.Steps {
		what := s.VIP
		if s.Action == reactions.ActionRun {
			what = s.Command
		}
		line := fmt.Sprintf("  step %d: %s %s on %s", s.Index, s.Action, what, s.Node)
		if s.Backend != "" {
			line += " [" + s.Backend + "]"
		}
		line += ": " + string(s.Outcome)
		if s.Before != nil && s.After != nil {
			line += fmt.Sprintf(" (%s -> %s)", presence(s.Before.Present), presence(s.After.Present))
		} else if s.Before != nil {
			line += fmt.Sprintf(" (now %s)", presence(s.Before.Present))
		}
		if s.Outcome != reactions.OutcomeSkipped && s.Outcome != reactions.OutcomePlanned {
			line += fmt.Sprintf(" in %.1f ms", s.DurationMS)
		}
		if s.PeerEvent != "" {
			line += " (peer event " + s.PeerEvent + ")"
		}
		fmt.Fprintln(w, line)
		if s.Reason != "" {
			fmt.Fprintf(w, "    %s\n", s.Reason)
		}
		if s.Error != "" {
			fmt.Fprintf(w, "    error: %s\n", s.Error)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if r.Error != "" && r.Status != reactions.StatusSucceeded {
		fmt.Fprintf(w, "  %s\n", r.Error)
	}
}

func presence(p bool) string {
	if p {
		return "present"
	}
	return "absent"
}

// labelsFlag collects --label k=v.
type labelsFlag map[string]string

func (l labelsFlag) String() string { return "" }
func (l labelsFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("label must be key=value")
	}
	l[k] = val
	return nil
}

func cmdFire(ctx context.Context, args []string, gargs map[string]string, env Env) error {
	var c common
	fs := newFlags("fire", env, &c)
	var a reactions.Alarm
	labels := labelsFlag{}
	fs.StringVar(&a.Condition, "condition", "", "alarm condition name")
	fs.StringVar(&a.EventID, "event-id", "", "Genesys log event ID")
	fs.StringVar(&a.Application, "application", "", "application name")
	fs.StringVar(&a.Host, "host", "", "host name")
	fs.StringVar(&a.Severity, "severity", "", "severity")
	fs.StringVar(&a.Text, "text", "", "text")
	fs.StringVar(&a.ID, "id", "", "idempotency key: a repeated key executes nothing")
	fs.Var(labels, "label", "label key=value (repeatable)")
	wait := fs.Duration("wait", 60*time.Second, "how long to wait for the result")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return exitf(ExitUsage, "fire: unexpected argument %q", pos[0])
	}
	if len(labels) > 0 {
		a.Labels = labels
	}
	if err := a.Validate(); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	cl, err := newClient(c, env)
	if err != nil {
		return err
	}
	defer cl.close()
	body := struct {
		reactions.Alarm
		GenesysArgs map[string]string `json:"genesys_args,omitempty"`
	}{a, gargs}
	code, resp, err := cl.do(ctx, http.MethodPost, "/v1/alarms?source=cli&wait="+wait.String(), body)
	if err != nil {
		return err
	}
	return cl.printResult(code, resp)
}

func cmdFailover(ctx context.Context, args []string, gargs map[string]string, env Env) error {
	var c common
	fs := newFlags("failover", env, &c)
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for the result")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 || (pos[0] != "enable" && pos[0] != "disable") {
		return exitf(ExitUsage, "usage: vipagent failover enable|disable [MEMBERID]")
	}
	cl, err := newClient(c, env)
	if err != nil {
		return err
	}
	defer cl.close()
	req := map[string]any{"action": pos[0], "genesys_args": gargs}
	if len(pos) == 2 {
		id, err := strconv.Atoi(pos[1])
		if err != nil || id < 1 {
			return exitf(ExitUsage, "failover: MEMBERID must be a positive number, got %q", pos[1])
		}
		req["member_id"] = id
	}
	code, resp, err := cl.do(ctx, http.MethodPost, "/v1/failover?wait="+wait.String(), req)
	if err != nil {
		return err
	}
	return cl.printResult(code, resp)
}

func cmdReplay(ctx context.Context, args []string, env Env) error {
	var c common
	fs := newFlags("replay", env, &c)
	dry := fs.Bool("dry-run", false, "show the plan and the observed state without acting")
	wait := fs.Duration("wait", 60*time.Second, "how long to wait for the result")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return exitf(ExitUsage, "usage: vipagent replay ID [--dry-run]")
	}
	cl, err := newClient(c, env)
	if err != nil {
		return err
	}
	defer cl.close()
	path := "/v1/events/" + url.PathEscape(pos[0]) + "/replay?wait=" + wait.String()
	if *dry {
		path += "&dry_run=true"
	}
	code, resp, err := cl.do(ctx, http.MethodPost, path, nil)
	if err != nil {
		return err
	}
	return cl.printResult(code, resp)
}

func cmdEvents(ctx context.Context, args []string, env Env) error {
	var c common
	fs := newFlags("events", env, &c)
	status := fs.String("status", "", "only events with this status")
	limit := fs.Int("limit", 20, "how many events")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || (pos[0] == "list" && len(pos) != 1) || (pos[0] == "show" && len(pos) != 2) || (pos[0] != "list" && pos[0] != "show") {
		return exitf(ExitUsage, "usage: vipagent events list [--status S] [--limit N] | events show ID")
	}
	cl, err := newClient(c, env)
	if err != nil {
		return err
	}
	defer cl.close()
	if pos[0] == "show" {
		var ev reactions.Event
		if printed, err := cl.fetch(ctx, http.MethodGet, "/v1/events/"+url.PathEscape(pos[1]), nil, &ev); err != nil || printed {
			return err
		}
		printEvent(env.Stdout, &ev)
		return nil
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *status != "" {
		q.Set("status", *status)
	}
	var list struct {
		Events []reactions.Event `json:"events"`
	}
	if printed, err := cl.fetch(ctx, http.MethodGet, "/v1/events?"+q.Encode(), nil, &list); err != nil || printed {
		return err
	}
	if len(list.Events) == 0 {
		fmt.Fprintln(env.Stdout, "no events")
	}
	for _, ev := range list.Events {
		what := ev.Alarm.Condition
		if what == "" {
			what = ev.Alarm.EventID + " " + ev.Alarm.Application
		}
		fmt.Fprintf(env.Stdout, "%s  %-10s  %-12s  %-9s  %s\n", ev.ReceivedAt.Local().Format("2006-01-02 15:04:05"), ev.Status, ev.Source, ev.ID, what)
	}
	return nil
}

func printEvent(w io.Writer, ev *reactions.Event) {
	fmt.Fprintf(w, "event %s: %s, received %s via %s\n", ev.ID, ev.Status, ev.ReceivedAt.Local().Format(time.RFC3339), ev.Source)
	a := ev.Alarm
	fmt.Fprintf(w, "  alarm: condition=%q event_id=%q application=%q host=%q severity=%q\n", a.Condition, a.EventID, a.Application, a.Host, a.Severity)
	if a.ID != "" {
		fmt.Fprintf(w, "  idempotency key: %s\n", a.ID)
	}
	if ev.ReplayOf != "" {
		fmt.Fprintf(w, "  replay of: %s\n", ev.ReplayOf)
	}
	if ev.Origin != "" {
		fmt.Fprintf(w, "  asked for by: %s\n", ev.Origin)
	}
	if len(ev.GenesysArgs) > 0 {
		fmt.Fprintf(w, "  genesys args: %v\n", ev.GenesysArgs)
	}
	if ev.Result != nil {
		PrintResult(w, ev.Result)
	}
}

func cmdVIP(ctx context.Context, args []string, env Env) error {
	var c common
	fs := newFlags("vip", env, &c)
	force := fs.Bool("force", false, "enable even if another host answers for the address")
	reason := fs.String("reason", "", "why (journaled)")
	wait := fs.Duration("wait", 60*time.Second, "how long to wait for the result")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return exitf(ExitUsage, "usage: vipagent vip status [NAME] | enable NAME [--force] | disable NAME")
	}
	cl, err := newClient(c, env)
	if err != nil {
		return err
	}
	defer cl.close()
	switch {
	case pos[0] == "status" && len(pos) <= 2:
		path := "/v1/vips"
		if len(pos) == 2 {
			path += "/" + url.PathEscape(pos[1])
		}
		var list struct {
			VIPs []httpapi.VIPView `json:"vips"`
		}
		var one httpapi.VIPView
		dst := any(&list)
		if len(pos) == 2 {
			dst = &one
		}
		if printed, err := cl.fetch(ctx, http.MethodGet, path, nil, dst); err != nil || printed {
			return err
		}
		if len(pos) == 2 {
			list.VIPs = []httpapi.VIPView{one}
		}
		for _, v := range list.VIPs {
			st := "unknown (" + v.Error + ")"
			if v.State != nil {
				st = presence(v.State.Present)
			}
			fmt.Fprintf(env.Stdout, "%s  %s on %s [%s]: %s on node %s\n", v.Name, v.Address, v.Interface, v.Backend, st, v.Node)
			if v.State != nil && v.State.Detail != "" {
				fmt.Fprintf(env.Stdout, "  %s\n", v.State.Detail)
			}
			if v.LastAction != nil {
				fmt.Fprintf(env.Stdout, "  last action: %s %s (event %s)\n", v.LastAction.Step.Action, v.LastAction.Step.Outcome, v.LastAction.EventID)
			}
		}
		return nil
	case (pos[0] == "enable" || pos[0] == "disable") && len(pos) == 2:
		body := map[string]any{"force": *force, "reason": *reason}
		code, resp, err := cl.do(ctx, http.MethodPost, "/v1/vips/"+url.PathEscape(pos[1])+"/"+pos[0]+"?wait="+wait.String(), body)
		if err != nil {
			return err
		}
		return cl.printResult(code, resp)
	}
	return exitf(ExitUsage, "usage: vipagent vip status [NAME] | enable NAME [--force] | disable NAME")
}

func cmdConfig(args []string, env Env) error {
	var c common
	fs := newFlags("config", env, &c)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "check" {
		return exitf(ExitUsage, "usage: vipagent config check [--config FILE]")
	}
	cfg, err := config.Load(c.config, env.Getenv)
	if err != nil {
		var probs config.Problems
		if errors.As(err, &probs) && cfg != nil {
			probs = append(probs, checkBackends(cfg)...)
			err = probs
		}
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if probs := checkBackends(cfg); len(probs) > 0 {
		return &ExitError{Code: ExitUsage, Err: config.Problems(probs)}
	}
	if err := CheckExposure(cfg); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	name := c.config
	if name == "" {
		name = "built-in configuration"
	}
	fmt.Fprintf(env.Stdout, "%s: ok (node %s, %d vips, %d reactions)\n", name, cfg.Node, len(cfg.VIPs), len(cfg.Reactions))
	return nil
}
