//go:build !windows

package config

// DefaultDataDir is where the journal lives unless data_dir says
// otherwise: /var/lib/vipagent, the same for the agent and for the one-shot
// commands SCS, RM and LCA start from any working directory.
func DefaultDataDir() string { return "/var/lib/vipagent" }

func defaultStandardPath() string { return "/etc/vipagent/vipagent.yaml" }

// defaultInstallDir is genesys.install_dir's default: where vipagent lives
// on RM hosts of this platform.
const defaultInstallDir = "/opt/vipagent"
