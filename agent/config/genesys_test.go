package config

import (
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGenesysPaths(t *testing.T) {
	tests := []struct {
		name                     string
		g                        Genesys
		windows                  bool
		exe, config, initWrapper string
		commandLine              string
	}{
		{"defaults", windowsGenesys(), true,
			`C:\GCTI\vipagent\vipagent.exe`, `C:\GCTI\vipagent\vipagent.yaml`, `C:\GCTI\vipagent\INIT.bat`, "vipagent.exe"},
		{"windows trailing separator, relative config", Genesys{InstallDir: `D:\vip\`, ConfigFile: "site.yaml"}, true,
			`D:\vip\vipagent.exe`, `D:\vip\site.yaml`, `D:\vip\INIT.bat`, "vipagent.exe"},
		{"windows absolute config", Genesys{InstallDir: `D:\vip`, ConfigFile: `E:\cfg\vip.yaml`, Executable: "va.exe"}, true,
			`D:\vip\va.exe`, `E:\cfg\vip.yaml`, `D:\vip\INIT.bat`, "va.exe"},
		{"linux", Genesys{InstallDir: "/opt/vipagent/"}, false,
			"/opt/vipagent/vipagent", "/opt/vipagent/vipagent.yaml", "/opt/vipagent/INIT.bat", "./vipagent"},
		{"linux absolute config", Genesys{InstallDir: "/opt/vipagent", ConfigFile: "/etc/vipagent.yaml"}, false,
			"/opt/vipagent/vipagent", "/etc/vipagent.yaml", "/opt/vipagent/INIT.bat", "./vipagent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := []any{tc.g.Windows(), tc.g.ExecutablePath(), tc.g.ConfigPath(), tc.g.HostPath("INIT.bat"), tc.g.CommandLine()}
			want := []any{tc.windows, tc.exe, tc.config, tc.initWrapper, tc.commandLine}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Windows, ExecutablePath, ConfigPath, HostPath, CommandLine (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGenesysValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(g *Genesys)
		want []string
	}{
		{"defaults", func(*Genesys) {}, nil},
		{"executable with a space", func(g *Genesys) { g.Executable = "vip agent.exe" }, []string{
			"executable: spaces are not allowed (the applications' Command Line is this name)",
		}},
		{"bad values", func(g *Genesys) {
			g.StoppedDetect = ""
			g.UnexpectedCancel = "00 05060"
			g.InstallDir = ""
			g.Executable = `bin\vipagent.exe`
			g.ConfigFile = "a\"b"
			g.ApplicationPrefix = "VIP Agent"
			g.Severity = "Fatal"
			g.CancelTimeout = -1
		}, []string{
			"stopped_detect: required (a log event ID such as 00-05060)",
			`unexpected_cancel: "00 05060" is not a log event ID such as 00-05060`,
			"install_dir: required (the directory of vipagent on the RM hosts)",
			"config_file: quotes, newlines and NUL are not allowed",
			"executable: a file name in install_dir, not a path",
			"application_prefix: must be letters, digits, '.', '_' or '-'",
			"severity: must be one of Critical, Major, Minor",
			"cancel_timeout: must not be negative",
		}},
		// What Windows or the .bat wrappers cannot take.
		{"windows names", func(g *Genesys) {
			g.InstallDir = `C:\GCTI\vip|agent`
			g.ConfigFile = `D:\cfg\größe.yaml`
			g.Executable = "vipägent"
		}, []string{
			`install_dir: "C:\\GCTI\\vip|agent" is not a Windows path (no < > | ? * and no ':' after the drive)`,
			`executable: "vipägent" must end in .exe on Windows RM hosts (LCA and cmd.exe start only programs with that extension)`,
			`executable: "vipägent" has non-ASCII characters, which the .bat wrappers cannot spell (cmd.exe reads them in the console's code page, not UTF-8); use an ASCII name`,
			`config_file: "D:\\cfg\\größe.yaml" has non-ASCII characters, which the .bat wrappers cannot spell (cmd.exe reads them in the console's code page, not UTF-8); use an ASCII name`,
		}},
		{"windows file name", func(g *Genesys) { g.Executable = "vip?.exe"; g.ConfigFile = "a:b:c.yaml" }, []string{
			`config_file: "a:b:c.yaml" is not a Windows path (no < > | ? * and no ':' after the drive)`,
			`executable: "vip?.exe" is not a Windows file name (no < > : | ? *)`,
		}},
		{"windows, fine", func(g *Genesys) {
			g.InstallDir = `C:\Programme\Größe & Co (x86) 100% ^!`
			g.Executable = "VIP&agent(1)%.EXE"
			g.ConfigFile = `\\srv\share\vip.yaml`
		}, nil},
		{"linux, anything goes", func(g *Genesys) {
			g.InstallDir = "/opt/größe|x"
			g.Executable = "vipägent?"
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := windowsGenesys()
			tc.edit(&g)
			if diff := cmp.Diff(tc.want, g.validate(nil)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// The genesys section decodes strictly like the rest of the config.
func TestGenesysDecode(t *testing.T) {
	c, err := Parse([]byte(string(DefaultYAML()) + "genesys:\n  install_dir: /opt/vipagent\n  severity: Major\n  cancel_timeout: 30m\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	want := DefaultGenesys()
	want.InstallDir, want.Severity, want.CancelTimeout = "/opt/vipagent", "Major", Duration(30*60e9)
	if diff := cmp.Diff(want, c.Genesys); diff != "" {
		t.Errorf("genesys (-want +got):\n%s", diff)
	}
	if _, err := Parse([]byte(string(DefaultYAML()) + "genesys:\n  install_dri: /opt\n")); err == nil {
		t.Error("unknown genesys key accepted")
	}
}

// windowsGenesys is the defaults for Windows RM hosts, whichever OS runs
// the test.
func windowsGenesys() Genesys {
	g := DefaultGenesys()
	g.InstallDir = `C:\GCTI\vipagent`
	return g
}

// install_dir defaults to the platform's own: a Linux config is never
// judged by Windows paths.
func TestGenesysInstallDirPerOS(t *testing.T) {
	g := DefaultGenesys()
	if g.Windows() != (runtime.GOOS == "windows") {
		t.Errorf("default install_dir %q on %s", g.InstallDir, runtime.GOOS)
	}
	if probs := g.validate(nil); len(probs) > 0 {
		t.Errorf("the defaults have problems: %q", probs)
	}
}
