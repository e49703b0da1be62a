package agent

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/httpapi"
)

// reloadable are the config sections (by YAML key) a reload applies to a
// running agent. They are read per request (auth, failover, alertmanager,
// genesys: by the HTTP API) or per event (reactions: when the engine plans
// it), so swapping them is safe: a request or event already under way
// finishes with what it started with. Every other section was built into
// the process at Open (the listener, the journal in data_dir, the backends,
// the peers, the report outbox, the scheduler, the logger) and needs a
// restart.
var reloadable = map[string]bool{"reactions": true, "auth": true, "failover": true, "alertmanager": true, "genesys": true}

// live is what a reload swaps atomically: the HTTP handler the server
// serves and the configuration it was built from.
type live struct {
	handler atomic.Pointer[http.Handler]
	config  atomic.Pointer[config.Config]
}

func (l *live) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*l.handler.Load()).ServeHTTP(w, r)
}

// Current is the configuration in effect: the one Open was given, or the
// last one Reload applied.
func (m *Main) Current() *config.Config { return m.live.config.Load() }

// ErrReloadRefused is returned by Reload when the new configuration has
// problems; the running one stays.
var ErrReloadRefused = errors.New("configuration reload refused")

// Reload applies next to the running agent: it is checked as serve checks
// a configuration; with any problem it is refused, the problems logged and
// the running configuration kept. Sections that cannot change without a
// restart keep their running value, each logged as such. The rest takes
// effect for new requests and events; those already running finish on the
// old. Every reload is logged and counted (vipagent_config_reloads_total).
func (m *Main) Reload(next *config.Config, getenv func(string) string) (err error) {
	log := m.Logger.With().Str("component", "reload").Logger()
	defer func() {
		if err != nil {
			m.metrics.ConfigReload("refused")
		} else {
			m.metrics.ConfigReload("applied")
		}
	}()
	cur := m.Current()
	if probs := reloadProblems(next, getenv); len(probs) > 0 {
		for _, p := range probs {
			log.Error().Str("problem", p).Msg("new configuration has a problem")
		}
		log.Error().Int("problems", len(probs)).Msg("configuration reload refused: the running configuration stays")
		return fmt.Errorf("%w: %w", ErrReloadRefused, probs)
	}
	eff := *cur
	var applied, kept []string
	cv, nv, ev := reflect.ValueOf(cur).Elem(), reflect.ValueOf(next).Elem(), reflect.ValueOf(&eff).Elem()
	for i := 0; i < cv.NumField(); i++ {
		if !cv.Type().Field(i).IsExported() {
			continue
		}
		key := yamlKey(cv.Type().Field(i))
		if reflect.DeepEqual(cv.Field(i).Interface(), nv.Field(i).Interface()) {
			continue
		}
		if !reloadable[key] {
			kept = append(kept, key)
			log.Error().Str("key", key).Msg("this setting cannot change without a restart: keeping the running value (restart the agent to apply it)")
			continue
		}
		ev.Field(i).Set(nv.Field(i))
		applied = append(applied, key)
	}
	// The applied sections must fit the kept ones (a reaction naming a VIP
	// only the new file has is a problem now).
	if probs := reloadProblems(&eff, getenv); len(probs) > 0 {
		for _, p := range probs {
			log.Error().Str("problem", p).Msg("new configuration does not fit the settings kept until a restart")
		}
		log.Error().Int("problems", len(probs)).Msg("configuration reload refused: the running configuration stays")
		return fmt.Errorf("%w: %w", ErrReloadRefused, probs)
	}
	deps := m.apiDeps
	deps.Config = &eff
	deps.Failover = Failover(&eff)
	var h http.Handler = httpapi.NewServer(deps)
	m.Engine.SetRules(Rules(&eff))
	m.live.handler.Store(&h)
	m.live.config.Store(&eff)
	log.Info().Strs("applied", applied).Strs("kept_until_restart", kept).Int("reactions", len(eff.Reactions)).Msg("configuration reloaded")
	return nil
}

// reloadProblems is every problem serve would refuse c for.
func reloadProblems(c *config.Config, getenv func(string) string) config.Problems {
	var probs config.Problems
	if err := c.Validate(getenv); err != nil {
		if !errors.As(err, &probs) {
			probs = config.Problems{err.Error()}
		}
	}
	probs = append(probs, Check(c)...)
	probs = append(probs, CheckTLS(c)...)
	probs = append(probs, c.SecretProblems()...)
	if err := CheckExposure(c); err != nil {
		probs = append(probs, err.Error())
	}
	return probs
}

func yamlKey(f reflect.StructField) string {
	k, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if k == "" {
		return strings.ToLower(f.Name)
	}
	return k
}

// CountReload counts a reload refused before Reload could look at it (a
// file that does not parse); Reload counts its own.
func (m *Main) CountReload(applied bool) {
	if applied {
		m.metrics.ConfigReload("applied")
	} else {
		m.metrics.ConfigReload("refused")
	}
}
