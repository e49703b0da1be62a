package config

import (
	"strings"
	"testing"
)

// A placeholder a command interpreter would read as code is refused, with
// the argv element's path, unless the command opts in; placeholders an
// interpreter passes on as data are accepted.
func TestShellPlaceholdersRefused(t *testing.T) {
	tests := []struct {
		name string
		argv string
		want string // the refused element's path; "" when accepted
	}{
		{"reported: sh -c with the alarm's text", `[/bin/sh, -c, "echo ${text}"]`, "argv[2]"},
		{"bash by name", `[bash, -c, "logger ${condition}"]`, "argv[2]"},
		{"dash, zsh", `[/usr/bin/zsh, -c, "x ${host}"]`, "argv[2]"},
		{"combined flags", `[/bin/bash, -ec, "x ${text}"]`, "argv[2]"},
		{"option value", `[/bin/sh, -o, "${text}", -c, "true"]`, "argv[2]"},
		{"after --", `[/bin/sh, -c, --, "x ${text}"]`, "argv[3]"},
		{"script path", `[/bin/sh, "/opt/${host}.sh"]`, "argv[1]"},
		{"through env", `[/usr/bin/env, sh, -c, "echo ${text}"]`, "argv[3]"},
		{"through env with a variable", `[/usr/bin/env, LC_ALL=C, /bin/bash, -c, "echo ${text}"]`, "argv[4]"},
		{"through sudo", `[/usr/bin/sudo, -u, rm, /bin/sh, -c, "echo ${text}"]`, "argv[5]"},
		{"su -c", `[/bin/su, rm, -c, "echo ${text}"]`, "argv[3]"},
		{"cmd.exe /c", `['C:\Windows\System32\cmd.exe', /c, 'C:\x.bat', "${text}"]`, "argv[3]"},
		{"CMD without extension", `[CMD, /C, 'C:\x.bat', "${text}"]`, "argv[3]"},
		{"cmd.exe canonical form", `[cmd.exe, /d, /s, /c, 'C:\x.bat', "${condition}"]`, "argv[5]"},
		{"powershell -Command", `[powershell.exe, -NoProfile, -Command, "Write-Host ${text}"]`, "argv[3]"},
		{"pwsh -c", `[pwsh, -c, "${text}"]`, "argv[2]"},
		{"powershell -EncodedCommand", `[powershell, -EncodedCommand, "${label:x}"]`, "argv[2]"},
		{"powershell default is a command", `[powershell, "Write-Host ${text}"]`, "argv[1]"},
		{"powershell -File path", `[pwsh, -File, "/opt/${host}.ps1"]`, "argv[2]"},
		{"ssh", `[/usr/bin/ssh, rm2, logger, "${text}"]`, "argv[3]"},
		{"positional parameter of sh -c", `[/bin/sh, -c, 'echo "$1"', sh, "${text}"]`, ""},
		{"script's argument", `[/bin/sh, /opt/notify.sh, "${text}"]`, ""},
		{"powershell -File parameters", `[powershell.exe, -NoProfile, -File, 'C:\n.ps1', "${text}"]`, ""},
		{"powershell -f abbreviation", `[pwsh, -f, /opt/n.ps1, "${text}"]`, ""},
		{"a program", `[/usr/bin/logger, -t, vipagent, "${text}"]`, ""},
		{"a literal dollar", `[/bin/sh, -c, "echo $${text}"]`, ""},
		{"shell without placeholders", `[/bin/sh, -c, "echo hello"]`, ""},
		{"env variable for sh", `[/usr/bin/env, "T=${text}", /bin/sh, -c, 'echo "$T"']`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := strings.Replace(validYAML, `argv: [/bin/echo, "${condition}", "${label:site}"]`, "argv: "+tt.argv, 1)
			c, err := Parse([]byte(y))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			probs := problemsOf(c.Validate(noEnv))
			got := ""
			for _, p := range probs {
				if rest, ok := strings.CutPrefix(p, "commands.notify."); ok && strings.Contains(p, "shell_placeholders: "+ShellPlaceholdersOptIn) {
					got, _, _ = strings.Cut(rest, ":")
				}
			}
			if got != tt.want {
				t.Errorf("argv %s: refused at %q, want %q (problems %q)", tt.argv, got, tt.want, probs)
			}
			if tt.want == "" {
				return
			}
			// The same argv with the opt-in key passes.
			opt := strings.Replace(y, "timeout: 5s}", "timeout: 5s, shell_placeholders: "+ShellPlaceholdersOptIn+"}", 1)
			c, err = Parse([]byte(opt))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if probs := problemsOf(c.Validate(noEnv)); len(probs) > 0 {
				t.Errorf("opted in, still refused: %q", probs)
			}
		})
	}
}

func TestShellPlaceholdersOptInValue(t *testing.T) {
	y := strings.Replace(validYAML, "timeout: 5s}", "timeout: 5s, shell_placeholders: yes}", 1)
	c, err := Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	want := `commands.notify.shell_placeholders: "yes": the only value is ` + ShellPlaceholdersOptIn
	if probs := problemsOf(c.Validate(noEnv)); !containsString(probs, want) {
		t.Errorf("problems %q do not hold %q", probs, want)
	}
}

func problemsOf(err error) Problems {
	if err == nil {
		return nil
	}
	p, ok := err.(Problems)
	if !ok {
		return Problems{err.Error()}
	}
	return p
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

// Every command that runs cmd.exe or a batch file is checked at `config
// check` as it will be when it runs.
func TestCmdExeArgvChecked(t *testing.T) {
	tests := []struct{ argv, want string }{
		{`[cmd.exe, /k, 'C:\x.bat']`, "commands.notify.argv: cmd.exe /k keeps cmd.exe waiting for input"},
		{`['C:\Windows\System32\CMD.EXE', /v:on, /c, 'C:\x.bat']`, `commands.notify.argv: cmd.exe switch "/v:on" is not allowed`},
		{`[cmd, /c, 'C:\x.bat', 'a&b']`, `commands.notify.argv: argument "a&b" for cmd.exe holds '&'`},
		{`['C:\x.bat', '%TEMP%']`, `commands.notify.argv: argument "%TEMP%" for cmd.exe holds '%'`},
		{`[cmd.exe, /c, 'C:\x.bat', enable, vip]`, ""},
		{`['C:\x.cmd', enable, '${vip}']`, ""},
	}
	for _, tt := range tests {
		y := strings.Replace(validYAML, `argv: [/bin/echo, "${condition}", "${label:site}"]`, "argv: "+tt.argv, 1)
		c, err := Parse([]byte(y))
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		probs := problemsOf(c.Validate(noEnv))
		if tt.want == "" {
			if len(probs) > 0 {
				t.Errorf("argv %s refused: %q", tt.argv, probs)
			}
		} else if !containsString(probs, tt.want) {
			t.Errorf("argv %s: problems %q do not hold %q", tt.argv, probs, tt.want)
		}
	}
}
