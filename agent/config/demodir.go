package config

import (
	"os"
	"path/filepath"
	"runtime"
)

// DemoDataDir is the built-in demo configuration's journal directory: the
// user's own state directory ($XDG_STATE_HOME/vipagent, else
// ~/.local/state/vipagent; %LOCALAPPDATA%\vipagent on Windows), so the
// tour works for any user and never writes where a real agent keeps its
// journal. A real configuration defaults to DefaultDataDir, which the
// agent and every hook share.
func DemoDataDir() string {
	if runtime.GOOS == "windows" {
		if d := os.Getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "vipagent")
		}
	} else if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "vipagent")
	}
	if home, err := os.UserHomeDir(); err == nil && filepath.IsAbs(home) {
		if runtime.GOOS == "windows" {
			return filepath.Join(home, "AppData", "Local", "vipagent")
		}
		return filepath.Join(home, ".local", "state", "vipagent")
	}
	return filepath.Join(os.TempDir(), "vipagent-demo")
}
