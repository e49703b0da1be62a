package config

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// Genesys describes the Genesys objects `vipagent genesys` generates (see
// package agent/genesys): where vipagent lives on the RM hosts, how the
// generated objects are named, and which log events the Alarm Conditions
// watch.
//
// Log event IDs differ between Genesys releases and are not constants of
// vipagent. Of the defaults, only 00-05060 ("Application started", the
// standard start event every Genesys server logs) could be confirmed from
// public Genesys material; 00-05061 and 00-05064 are the IDs commonly used
// for "stopped" and "terminated unexpectedly" and MUST be checked on site
// against the Framework Combined Log Events Help of the installed release
// (or by stopping and killing an RM in a test window and reading the events
// Message Server records) before the Alarm Conditions are trusted.
type Genesys struct {
	// InstallDir is where the vipagent binary, its wrapper scripts and its
	// config live on the RM hosts. A path starting with "/" means Linux
	// hosts (.sh wrappers, "vipagent"); anything else means Windows (.bat
	// wrappers, "vipagent.exe"). The default is the platform's own:
	// /opt/vipagent where vipagent runs on Linux, C:\GCTI\vipagent on Windows.
	InstallDir string `yaml:"install_dir"`
	// Executable is the binary's file name in InstallDir, without spaces
	// (on Windows: ending in .exe, ASCII only); empty means vipagent.exe on
	// Windows and vipagent on Linux. It is the applications' Command Line
	// and what the wrappers and installers use.
	Executable string `yaml:"executable"`
	// ConfigFile is the agent's config on the RM hosts, absolute or relative
	// to InstallDir; empty means vipagent.yaml next to the binary, which is
	// where the wrapper scripts look for it.
	ConfigFile string `yaml:"config_file"`
	// ApplicationPrefix starts the name of every generated Genesys object
	// (templates, applications, scripts), e.g. VIPAgent_rm1.
	ApplicationPrefix string `yaml:"application_prefix"`
	// Severity is the Alarm Conditions' category: Critical, Major or Minor.
	Severity string `yaml:"severity"`
	// CancelTimeout clears an alarm whose cancel event never came.
	CancelTimeout Duration `yaml:"cancel_timeout"`
	// StoppedDetect/StoppedCancel: log events for "RM stopped on purpose".
	StoppedDetect string `yaml:"stopped_detect"`
	StoppedCancel string `yaml:"stopped_cancel"`
	// UnexpectedDetect/UnexpectedCancel: "RM stopped unexpectedly".
	UnexpectedDetect string `yaml:"unexpected_detect"`
	UnexpectedCancel string `yaml:"unexpected_cancel"`
}

// Alarm categories Genesys offers for an Alarm Condition.
var genesysSeverities = []string{"Critical", "Major", "Minor"}

// DefaultGenesys returns the documented defaults. Verify the event IDs on
// site (see Genesys).
func DefaultGenesys() Genesys {
	return Genesys{
		InstallDir:        defaultInstallDir,
		ApplicationPrefix: "VIPAgent",
		Severity:          "Critical",
		CancelTimeout:     Duration(time.Hour),
		// Unverified: commonly used for "application stopped".
		StoppedDetect: "00-05061",
		// Confirmed: "Application started"; the RM coming back clears both alarms.
		StoppedCancel: "00-05060",
		// Unverified: commonly used for "application terminated unexpectedly".
		UnexpectedDetect: "00-05064",
		UnexpectedCancel: "00-05060",
	}
}

// Windows reports whether the RM hosts run Windows, judged by InstallDir.
func (g Genesys) Windows() bool { return !strings.HasPrefix(g.InstallDir, "/") }

// ExecutableName is the binary's file name on the RM hosts.
func (g Genesys) ExecutableName() string {
	switch {
	case g.Executable != "":
		return g.Executable
	case g.Windows():
		return "vipagent.exe"
	}
	return "vipagent"
}

// HostPath joins name to InstallDir with the RM hosts' separator (the
// generator runs anywhere, the paths are used on the RM hosts).
func (g Genesys) HostPath(name string) string {
	sep := "/"
	if g.Windows() {
		sep = `\`
	}
	return strings.TrimRight(g.InstallDir, `/\`) + sep + name
}

// CommandLine is what the applications' Command Line field holds: the
// binary relative to their Working Directory (InstallDir), as Genesys sets
// up its own servers (confserv.exe, ./confserv), so that no path with
// spaces has to survive LCA's command line.
func (g Genesys) CommandLine() string {
	if g.Windows() {
		return g.ExecutableName()
	}
	return "./" + g.ExecutableName()
}

// ExecutablePath is the binary's full path on the RM hosts.
func (g Genesys) ExecutablePath() string { return g.HostPath(g.ExecutableName()) }

// ConfigPath is the agent's config file on the RM hosts.
func (g Genesys) ConfigPath() string {
	switch {
	case g.ConfigFile == "":
		return g.HostPath("vipagent.yaml")
	case strings.HasPrefix(g.ConfigFile, "/"), strings.HasPrefix(g.ConfigFile, `\`),
		len(g.ConfigFile) > 1 && g.ConfigFile[1] == ':':
		return g.ConfigFile
	}
	return g.HostPath(g.ConfigFile)
}

func (g Genesys) validate(*Config) []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	for _, f := range []struct{ name, v string }{
		{"stopped_detect", g.StoppedDetect}, {"stopped_cancel", g.StoppedCancel},
		{"unexpected_detect", g.UnexpectedDetect}, {"unexpected_cancel", g.UnexpectedCancel},
	} {
		switch {
		case f.v == "":
			add("%s: required (a log event ID such as 00-05060)", f.name)
		case strings.ContainsAny(f.v, " \t\r\n\x00"):
			add("%s: %q is not a log event ID such as 00-05060", f.name, f.v)
		}
	}
	if g.InstallDir == "" {
		add("install_dir: required (the directory of vipagent on the RM hosts)")
	}
	// These strings end up in Genesys command lines and object names.
	for _, f := range []struct{ name, v string }{
		{"install_dir", g.InstallDir}, {"executable", g.Executable}, {"config_file", g.ConfigFile},
	} {
		if strings.ContainsAny(f.v, "\"\r\n\x00") {
			add("%s: quotes, newlines and NUL are not allowed", f.name)
		}
	}
	switch {
	case strings.ContainsAny(g.Executable, `/\`):
		add("executable: a file name in install_dir, not a path")
	case strings.ContainsAny(g.Executable, " \t"):
		// LCA takes the Command Line field as it is: a name with a space
		// cannot be told from a name and an argument.
		add("executable: spaces are not allowed (the applications' Command Line is this name)")
	}
	if g.Windows() {
		p = append(p, g.windowsPathProblems()...)
	}
	if !ValidName(g.ApplicationPrefix) {
		add("application_prefix: must be letters, digits, '.', '_' or '-'")
	}
	valid := false
	for _, s := range genesysSeverities {
		valid = valid || g.Severity == s
	}
	if !valid {
		add("severity: must be one of %s", strings.Join(genesysSeverities, ", "))
	}
	if g.CancelTimeout < 0 {
		add("cancel_timeout: must not be negative")
	}
	return p
}

// windowsPathProblems are the names Windows RM hosts cannot use: characters
// Windows refuses in a file name, an executable that CreateProcess and
// cmd.exe would not start, and non-ASCII text in what the .bat wrappers
// spell out (cmd.exe reads a batch file in the console's code page, not
// UTF-8, so such a name would not be found; install_dir is fine, the
// wrappers find it with %~dp0).
func (g Genesys) windowsPathProblems() []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	for _, f := range []struct{ name, v string }{{"install_dir", g.InstallDir}, {"config_file", g.ConfigFile}} {
		if strings.ContainsAny(f.v, "<>|?*") || strings.Contains(f.v[min(len(f.v), 2):], ":") {
			add("%s: %q is not a Windows path (no < > | ? * and no ':' after the drive)", f.name, f.v)
		}
	}
	if strings.ContainsAny(g.Executable, `<>:|?*`) {
		add("executable: %q is not a Windows file name (no < > : | ? *)", g.Executable)
	} else if g.Executable != "" && !strings.EqualFold(path.Ext(g.Executable), ".exe") {
		add("executable: %q must end in .exe on Windows RM hosts (LCA and cmd.exe start only programs with that extension)", g.Executable)
	}
	for _, f := range []struct{ name, v string }{{"executable", g.Executable}, {"config_file", g.ConfigFile}} {
		if !isASCII(f.v) {
			add("%s: %q has non-ASCII characters, which the .bat wrappers cannot spell "+
				"(cmd.exe reads them in the console's code page, not UTF-8); use an ASCII name", f.name, f.v)
		}
	}
	return p
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
