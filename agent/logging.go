package agent

import (
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/version"
)

// newLogger builds the one logger of the process: JSON by default, readable
// console output when stderr is a terminal (format auto), and a size-rotated
// file besides when log.file is set (what LCA-started services expect).
// The returned closer closes the file.
func newLogger(c config.Log, stderr io.Writer) (zerolog.Logger, io.Closer) {
	var out io.Writer = stderr
	console := c.Format == "console"
	if c.Format == "auto" {
		// The CLI hands a writer that escapes control characters and says
		// which descriptor it writes to.
		if f, ok := stderr.(interface{ Fd() uintptr }); ok && isatty.IsTerminal(f.Fd()) {
			console = true
		}
	}
	if console {
		// Colours only straight onto a file: an escaping writer would
		// show their escape sequences.
		_, file := stderr.(*os.File)
		out = zerolog.ConsoleWriter{Out: stderr, TimeFormat: logTimeFormat, TimeLocation: time.UTC, NoColor: !file}
	}
	var closer io.Closer = io.NopCloser(nil)
	if c.File != "" {
		lj := &lumberjack.Logger{Filename: c.File, MaxSize: c.MaxSizeMB, MaxBackups: c.MaxFiles}
		out = zerolog.MultiLevelWriter(out, lj)
		closer = lj
	}
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil {
		level = zerolog.InfoLevel
	}
	log := zerolog.New(out).Level(level).Hook(logTime{}).With().Str("version", version.String()).Logger()
	return log, closer
}

// logTimeFormat is RFC 3339 in UTC with milliseconds: VIP moves take
// milliseconds, and whole seconds would hide their order.
const logTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// logTime stamps each entry with logTimeFormat without touching zerolog's
// global TimeFieldFormat, which other loggers in the process may rely on.
type logTime struct{}

func (logTime) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Str(zerolog.TimestampFieldName, time.Now().UTC().Format(logTimeFormat))
}
