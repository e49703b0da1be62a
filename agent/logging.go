package agent

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/vipagent/vipagent/agent/config"
)

// newLogger builds the one logger of the process: JSON by default, readable
// console output when stderr is a terminal (format auto), and a size-rotated
// file besides when log.file is set (what LCA-started services expect).
// The returned closer closes the file.
func newLogger(c config.Log, stderr io.Writer) (zerolog.Logger, io.Closer) {
	var out io.Writer = stderr
	console := c.Format == "console"
	if c.Format == "auto" {
		if f, ok := stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			console = true
		}
	}
	if console {
		out = zerolog.ConsoleWriter{Out: stderr, TimeFormat: "15:04:05.000"}
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
	return zerolog.New(out).Level(level).With().Timestamp().Logger(), closer
}
