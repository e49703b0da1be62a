package command

import (
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
			if !isCmdExeArgv(tt.argv) {
				t.Fatalf("isCmdExeArgv(%q) = false", tt.argv)
			}
			got, err := cmdExeCommandLine(tt.argv)
			if (err != nil) != tt.wantErr {
				t.Fatalf("cmdExeCommandLine error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("command line (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsCmdExeArgv(t *testing.T) {
	for _, argv := range [][]string{
		{`C:\Windows\System32\cmd.exe`, "/c", `C:\x.bat`},
		{`C:\Windows\System32\netsh.exe`, "/d", "/s", "/c", "x"},
		{`C:\Windows\System32\cmd.exe`, "/d", "/s", "/c"},
	} {
		if isCmdExeArgv(argv) {
			t.Errorf("isCmdExeArgv(%q) = true, want false", argv)
		}
	}
	if !isCmdExeArgv([]string{`C:\WINDOWS\system32\CMD.EXE`, "/D", "/S", "/C", `C:\x.bat`}) {
		t.Error("isCmdExeArgv is case-sensitive")
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
		if got := isBatch(path); got != want {
			t.Errorf("isBatch(%q) = %v, want %v", path, got, want)
		}
	}
}
