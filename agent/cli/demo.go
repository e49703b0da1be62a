package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/config"
)

// cmdDemo runs the built-in configuration end to end in a temporary data
// directory: a real agent on a loopback port, alarms over real HTTP, the
// journal, a duplicate, a replay. It changes nothing on the host (the VIP is
// on the fake backend) and leaves nothing behind.
func cmdDemo(ctx context.Context, args []string, env Env) error {
	var c common
	fs := newFlags("demo", env, &c)
	keep := fs.Bool("keep", false, "keep the demo's data directory")
	if _, err := parse(fs, env, args); err != nil {
		return err
	}
	cfg, err := config.Load(c.config, env.Getenv)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	dir, err := os.MkdirTemp("", "vipagent-demo-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	cfg.DataDir = dir
	cfg.Listen = "127.0.0.1:0"
	log := zerolog.New(zerolog.ConsoleWriter{Out: env.Stderr, TimeFormat: "15:04:05.000"}).Level(zerolog.WarnLevel).With().Timestamp().Logger()
	m, err := agent.Open(cfg, agent.Options{Logger: &log})
	if err != nil {
		return err
	}
	if err := m.Serve(ctx); err != nil {
		m.Close(context.Background())
		return err
	}
	defer func() {
		gctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Close(gctx)
	}()
	out := env.Stdout
	cl := &client{env: env, c: common{}, cfg: cfg, base: "http://" + m.Addr()}
	say := func(format string, a ...any) { fmt.Fprintf(out, "\n== "+format+"\n", a...) }
	fire := func(body map[string]any) (string, error) {
		code, resp, err := cl.do(ctx, http.MethodPost, "/v1/alarms?wait=10s", body)
		if err != nil {
			return "", err
		}
		var r struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(resp, &r); err != nil {
			return "", err
		}
		_ = cl.printResult(code, resp)
		return r.EventID, nil
	}
	fmt.Fprintf(out, "vipagent demo: agent for node %s listening on %s, journal in %s\n", cfg.Node, m.Addr(), dir)
	fmt.Fprintf(out, "VIP rm-vip (192.0.2.100/24) is on the in-memory fake backend and starts present.\n")

	say("SCS reports RM1 stopped: POST /v1/alarms {\"condition\":\"RM1_Stopped\",\"id\":\"scs-1\"}")
	first, err := fire(map[string]any{"condition": "RM1_Stopped", "id": "scs-1", "host": "rm1", "application": "RM_1"})
	if err != nil {
		return err
	}
	say("The same alarm again (same id): answered from the journal, nothing runs")
	if _, err := fire(map[string]any{"condition": "RM1_Stopped", "id": "scs-1", "host": "rm1", "application": "RM_1"}); err != nil {
		return err
	}
	say("RM1 dies before anyone restarted it: the VIP is already gone, so the step is unchanged")
	if _, err := fire(map[string]any{"condition": "RM1_Unexpected_Stop", "id": "scs-2"}); err != nil {
		return err
	}
	say("An alarm no rule matches is journaled as unmatched")
	if _, err := fire(map[string]any{"condition": "SIP_Server_Down", "id": "scs-3"}); err != nil {
		return err
	}
	say("On-call brings the VIP back by hand: POST /v1/vips/rm-vip/enable")
	code, resp, err := cl.do(ctx, http.MethodPost, "/v1/vips/rm-vip/enable?wait=10s", map[string]any{"reason": "demo"})
	if err != nil {
		return err
	}
	_ = cl.printResult(code, resp)
	say("Replay the first event (a new run, linked to it): POST /v1/events/%s/replay", first)
	code, resp, err = cl.do(ctx, http.MethodPost, "/v1/events/"+first+"/replay?wait=10s", nil)
	if err != nil {
		return err
	}
	_ = cl.printResult(code, resp)
	say("The journal, newest first: GET /v1/events")
	// The same config and data directory as the demo's agent, which
	// proves it runs them before it is asked.
	listArgs := []string{"list", "--agent", cl.base, "--data", dir}
	if c.config != "" {
		listArgs = append(listArgs, "--config", c.config)
	}
	if err := cmdEvents(ctx, listArgs, Env{Getenv: func(string) string { return "" }, Stdout: out, Stderr: env.Stderr}); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nNext: `vipagent serve` runs this agent for real; `vipagent fire --condition RM1_Stopped` talks to it.\n")
	return nil
}
