package command

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCmdExeCommandLine(t *testing.T) {
	const cmd = `C:\Windows\System32\cmd.exe`
	tests := []struct {
		name    string
		argv    []string
		want    string
		wantErr bool
	}{
		{
			name: "plain words stay bare",
			argv: []string{cmd, "/d", "/s", "/c", `C:\GCTI\RM\bin\IPTakeOver.bat`, "enable", "192.0.2.10"},
			want: `"C:\Windows\System32\cmd.exe" /d /s /c ""C:\GCTI\RM\bin\IPTakeOver.bat" enable 192.0.2.10"`,
		},
		{
			name: "cmd delimiters are quoted",
			argv: []string{cmd, "/d", "/s", "/c", `C:\Program Files\GVP\x.cmd`, "Ethernet 2", "a=b", "Local Area Connection (2)", ""},
			want: `"C:\Windows\System32\cmd.exe" /d /s /c ""C:\Program Files\GVP\x.cmd" "Ethernet 2" "a=b" "Local Area Connection (2)" """`,
		},
		{name: "quote refused", argv: []string{cmd, "/d", "/s", "/c", `C:\x.bat`, `a"b`}, wantErr: true},
		{name: "percent refused", argv: []string{cmd, "/d", "/s", "/c", `C:\x.bat`, "%PATH%"}, wantErr: true},
		{name: "bang refused", argv: []string{cmd, "/d", "/s", "/c", `C:\x.bat`, "!x!"}, wantErr: true},
		{name: "ampersand refused", argv: []string{cmd, "/d", "/s", "/c", `C:\x.bat`, "x&calc"}, wantErr: true},
		{name: "pipe refused", argv: []string{cmd, "/d", "/s", "/c", `C:\x.bat`, "x|calc"}, wantErr: true},
		{name: "redirection refused", argv: []string{cmd, "/d", "/s", "/c", `C:\x.bat`, "x>y"}, wantErr: true},
		{name: "caret refused", argv: []string{cmd, "/d", "/s", "/c", `C:\x.bat`, "a^b"}, wantErr: true},
		{name: "percent in the script refused", argv: []string{cmd, "/d", "/s", "/c", `C:\%TEMP%\x.bat`}, wantErr: true},
		{
			name: "ampersand in the quoted script",
			argv: []string{cmd, "/d", "/s", "/c", `C:\R&D\x.bat`, "enable"},
			want: `"C:\Windows\System32\cmd.exe" /d /s /c ""C:\R&D\x.bat" enable"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cmdExeLine(tt.argv)
			if (err != nil) != tt.wantErr {
				t.Fatalf("cmdExeCommandLine error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("command line (-want +got):\n%s", diff)
			}
		})
	}
}

// Every argv that runs cmd.exe, whatever its spelling, reaches the one
// checked shape or is refused: none goes to CreateProcess as Go quotes it.
func TestCmdExeArgv(t *testing.T) {
	tests := []struct {
		name    string
		argv    []string
		want    string // the command line; "" when refused
		wantErr string
	}{
		{"bare /c", []string{`C:\Windows\System32\cmd.exe`, "/c", `C:\x.bat`, "Ethernet 2"},
			`"C:\Windows\System32\cmd.exe" /d /s /c ""C:\x.bat" "Ethernet 2""`, ""},
		{"cmd without extension, upper case", []string{"CMD", "/C", `C:\x.bat`, "enable"},
			`"CMD" /d /s /c ""C:\x.bat" enable"`, ""},
		{"/q and /d before /c", []string{"cmd.exe", "/Q", "/d", "/c", `C:\x.cmd`},
			`"cmd.exe" /d /s /c ""C:\x.cmd""`, ""},
		{"reported: /c with a quoted alarm text", []string{"cmd.exe", "/c", `x.bat`, "a&calc"}, "", "cmd.exe would interpret"},
		{"/k", []string{"cmd.exe", "/k", `C:\x.bat`}, "", "/k keeps cmd.exe waiting"},
		{"delayed expansion", []string{"cmd.exe", "/v:on", "/c", `C:\x.bat`}, "", `switch "/v:on" is not allowed`},
		{"no /c", []string{"cmd.exe", "/d"}, "", "without /c"},
		{"nothing after /c", []string{"cmd.exe", "/c"}, "", "without a program"},
		{"percent in an argument", []string{`c:\windows\system32\cmd.exe`, "/c", `C:\x.bat`, "%PATH%"}, "", "cmd.exe would interpret"},
		{"quote in the program", []string{"cmd", "/c", `C:\x".bat`}, "", "cmd.exe would interpret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !IsCmdExe(tt.argv[0]) {
				t.Fatalf("IsCmdExe(%q) = false", tt.argv[0])
			}
			got, err := cmdExeLine(tt.argv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("cmdExeLine(%q) = %q, %v; want an error with %q", tt.argv, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("command line (-want +got):\n%s", diff)
			}
		})
	}
	for _, p := range []string{`C:\Windows\System32\netsh.exe`, "cmdx", `C:\cmd\x.exe`, "/usr/bin/cmd.sh"} {
		if IsCmdExe(p) {
			t.Errorf("IsCmdExe(%q) = true", p)
		}
	}
}

func TestIsBatch(t *testing.T) {
	for path, want := range map[string]bool{
		`C:\GVP\IPTakeOver.bat`:   true,
		`C:\GVP\NOTIFY.CMD`:       true,
		`C:\GVP\notify.bat.`:      true,
		`C:\GVP\notify.bat . .`:   true,
		`notify.Bat`:              true,
		`C:\GVP\notify.exe`:       false,
		`C:\GVP\notify.bat.exe`:   false,
		`C:\GVP.bat\notify`:       false,
		`C:\GVP\bat`:              false,
		`/opt/vipagent/notify.sh`: false,
	} {
		if got := IsBatch(path); got != want {
			t.Errorf("IsBatch(%q) = %v, want %v", path, got, want)
		}
	}
}

// The one metacharacter set: arguments get none of " % ! & | < > ^ or a
// line break; the always-quoted script may hold & | < > ^ only.
func TestCheckBatchArgv(t *testing.T) {
	ok := [][]string{
		{`C:\GCTI\RM\bin\IPTakeOver.bat`, "enable", "192.0.2.10", "Local Area Connection (2)", `\Device\NPF_{85FE}`},
		{`C:\R&D\x.bat`, "enable"},
	}
	for _, argv := range ok {
		if err := CheckBatchArgv(argv); err != nil {
			t.Errorf("CheckBatchArgv(%q) = %v, want nil", argv, err)
		}
	}
	for _, bad := range []string{"a&b", "a|b", "a<b", "a>b", "a^b", "%PATH%", "!x!", `a"b`, "a\nb", "a\rb", "a\x00b"} {
		if err := CheckBatchArgv([]string{`C:\x.bat`, bad}); err == nil {
			t.Errorf("CheckBatchArgv accepted the argument %q", bad)
		}
	}
	for _, bad := range []string{`C:\%TEMP%\x.bat`, `C:\x!.bat`, `C:\"x.bat`, "C:\\x\n.bat", ""} {
		if err := CheckBatchArgv([]string{bad}); err == nil {
			t.Errorf("CheckBatchArgv accepted the script %q", bad)
		}
	}
}
