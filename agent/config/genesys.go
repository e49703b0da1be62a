package config

import "fmt"

// Genesys describes the Genesys objects `vipagent genesys` generates. Log
// event IDs differ between releases: the defaults are the ones commonly
// used; check them against your own Log Events Help.
type Genesys struct {
	// InstallDir is where the vipagent binary lives on the RM hosts.
	InstallDir string `yaml:"install_dir"`
	// Executable is the binary's file name in InstallDir.
	Executable string `yaml:"executable"`
	// StoppedDetect/StoppedCancel: log events for "RM stopped on purpose".
	StoppedDetect string `yaml:"stopped_detect"`
	StoppedCancel string `yaml:"stopped_cancel"`
	// UnexpectedDetect/UnexpectedCancel: "RM stopped unexpectedly".
	UnexpectedDetect string `yaml:"unexpected_detect"`
	UnexpectedCancel string `yaml:"unexpected_cancel"`
}

// DefaultGenesys returns the documented defaults.
func DefaultGenesys() Genesys {
	return Genesys{
		InstallDir:       `C:\GCTI\vipagent`,
		Executable:       "vipagent.exe",
		StoppedDetect:    "00-05061",
		StoppedCancel:    "00-05060",
		UnexpectedDetect: "00-05064",
		UnexpectedCancel: "00-05060",
	}
}

func (g Genesys) validate(*Config) []string {
	var p []string
	for _, f := range []struct{ name, v string }{
		{"stopped_detect", g.StoppedDetect}, {"stopped_cancel", g.StoppedCancel},
		{"unexpected_detect", g.UnexpectedDetect}, {"unexpected_cancel", g.UnexpectedCancel},
	} {
		if f.v == "" {
			p = append(p, fmt.Sprintf("%s: required (a log event ID such as 00-05060)", f.name))
		}
	}
	if g.Executable == "" {
		p = append(p, "executable: required")
	}
	return p
}
