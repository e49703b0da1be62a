package agent

import (
	"log"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// serverLog routes net/http's own error log (TLS handshake failures,
// malformed requests) into the agent's structured log at warning level,
// at most serverLogBurst lines per serverLogWindow: a scanner or a client
// without a certificate must not flood the log. The number of lines held
// back is told with the next line let through.
func serverLog(l zerolog.Logger) *log.Logger {
	return log.New(&serverLogWriter{log: l.With().Str("component", "http-server").Logger()}, "", 0)
}

const (
	serverLogBurst  = 10
	serverLogWindow = time.Minute
)

type serverLogWriter struct {
	log zerolog.Logger

	mu         sync.Mutex
	windowFrom time.Time
	inWindow   int
	suppressed int
}

func (w *serverLogWriter) Write(p []byte) (int, error) {
	now := time.Now()
	w.mu.Lock()
	if now.Sub(w.windowFrom) >= serverLogWindow {
		w.windowFrom, w.inWindow = now, 0
	}
	w.inWindow++
	if w.inWindow > serverLogBurst {
		w.suppressed++
		w.mu.Unlock()
		return len(p), nil
	}
	suppressed := w.suppressed
	w.suppressed = 0
	w.mu.Unlock()
	ev := w.log.Warn()
	if suppressed > 0 {
		ev = ev.Int("suppressed_before", suppressed)
	}
	ev.Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
