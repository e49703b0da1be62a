package config

import (
	"fmt"
	"io"
	"os"
)

// standardPath is where a host's configuration lives when --config does
// not say (StandardPath); a variable so that tests can point it elsewhere.
var standardPath = defaultStandardPath

// StandardPath is the platform's configuration file:
// /etc/vipagent/vipagent.yaml, or %ProgramData%\vipagent\vipagent.yaml on
// Windows.
func StandardPath() string { return standardPath() }

// DemoBanner is what every command but demo prints on stderr when it runs
// on the built-in configuration, whose VIP is on the in-memory fake
// backend: an operator who forgot --config must not believe a VIP moved.
func DemoBanner() string {
	return fmt.Sprintf("DEMO config: nothing on this host changes (no --config given and no %s; journal in %s); "+
		"give --config FILE or install a config there", StandardPath(), DemoDataDir())
}

// Choose returns the configuration file a command reads: flagPath when
// --config was given, else StandardPath when a file is there, else "" for
// the built-in demo configuration, after printing DemoBanner on stderr.
func Choose(flagPath string, stderr io.Writer) string {
	if flagPath != "" {
		return flagPath
	}
	if p := StandardPath(); p != "" {
		if _, err := os.Lstat(p); err == nil {
			// Present but unreadable or not a regular file: Load says so,
			// rather than falling back to the demo.
			return p
		}
	}
	if stderr != nil {
		fmt.Fprintln(stderr, DemoBanner())
	}
	return ""
}
