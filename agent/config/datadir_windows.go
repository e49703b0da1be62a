package config

import (
	"os"
	"path/filepath"
)

// DefaultDataDir is where the journal lives unless data_dir says
// otherwise: %ProgramData%\vipagent, the same for the agent LCA starts and
// for the one-shot commands SCS and RM start from any working directory.
func DefaultDataDir() string {
	base := os.Getenv("ProgramData")
	if base == "" {
		base = `C:\ProgramData`
	}
	return filepath.Join(base, "vipagent")
}

func defaultStandardPath() string {
	base := os.Getenv("ProgramData")
	if base == "" {
		base = `C:\ProgramData`
	}
	return filepath.Join(base, "vipagent", "vipagent.yaml")
}

// defaultInstallDir is genesys.install_dir's default: where vipagent lives
// on RM hosts of this platform.
const defaultInstallDir = `C:\GCTI\vipagent`
