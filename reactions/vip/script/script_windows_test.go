package script

// These tests run real batch files through the cmd.exe of the system
// directory, as the backend does on a Genesys host: the quoting of the
// command line, %1..%9 and exit /b codes are cmd.exe's own.

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/hostcmd"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// takeoverBat is an IPTakeOver-like batch file: "enable|disable|status
// ...". It appends %1 .. %9 to calls.txt (the redirection comes first, so
// that an argument ending in a digit cannot turn into one) and keeps the
// VIP's state in a file.
const takeoverBat = `@echo off
>>"%~dp0calls.txt" echo %1 %2 %3 %4 %5 %6 %7 %8 %9
if "%~1"=="enable" goto enable
if "%~1"=="disable" goto disable
if "%~1"=="status" goto status
echo usage: %~nx0 enable^|disable^|status
exit /b 2
:enable
>"%~dp0state" echo present
echo VIP %2 enabled
exit /b 0
:disable
if exist "%~dp0state" del "%~dp0state"
echo VIP %2 disabled
exit /b 0
:status
if exist "%~dp0state" goto here
echo VIP %2 is not here
exit /b 1
:here
echo VIP %2 is here
exit /b 0
`

var batSpec = vip.Spec{Name: "rm-vip", Prefix: netip.MustParsePrefix("192.0.2.10/24"), Interface: "Local Area Connection (2)"}

// writeBat writes body as name into a directory whose path holds a space,
// as C:\Program Files\... does, with CRLF line ends.
func writeBat(t *testing.T, name, body string) (dir string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "GVP scripts")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.ReplaceAll(body, "\n", "\r\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func batCalls(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "calls.txt"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, l := range strings.Split(strings.TrimRight(string(data), "\r\n"), "\r\n") {
		calls = append(calls, strings.TrimRight(l, " "))
	}
	return calls
}

// TestBatchFileArguments runs enable, observe and disable through cmd.exe
// with arguments cmd.exe would split or misread unquoted: what the batch
// file sees as %1 %2 ... is what the test compares.
func TestBatchFileArguments(t *testing.T) {
	dir := writeBat(t, "IPTakeOver.bat", takeoverBat)
	b, err := New(batSpec, map[string]any{
		"dir":     dir,
		"enable":  []any{"IPTakeOver.bat", "enable", "${vip}", "${mask}", "${interface}", "a,b", "x;y", "k=v", "(paren)"},
		"disable": []any{"IPTakeOver.bat", "disable", "${address}", "${name}", "", "two  spaces"},
		"observe": []any{"IPTakeOver.bat", "status", "${vip}"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := viptest.Context(t, time.Minute)

	st, err := b.Observe(ctx)
	if err != nil || st.Present {
		t.Fatalf("Observe before = %+v, %v; want absent", st, err)
	}
	if err := b.Enable(ctx, false); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	st, err = b.Observe(ctx)
	if err != nil || !st.Present {
		t.Fatalf("Observe after enable = %+v, %v; want present", st, err)
	}
	if want := "script: IPTakeOver.bat exited 0: VIP 192.0.2.10 is here"; st.Detail != want {
		t.Errorf("Detail = %q, want %q", st.Detail, want)
	}
	if err := b.Disable(ctx); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	st, err = b.Observe(ctx)
	if err != nil || st.Present {
		t.Fatalf("Observe after disable = %+v, %v; want absent", st, err)
	}
	want := []string{
		"status 192.0.2.10",
		`enable 192.0.2.10 255.255.255.0 "Local Area Connection (2)" "a,b" "x;y" "k=v" "(paren)"`,
		"status 192.0.2.10",
		`disable 192.0.2.10/24 rm-vip "" "two  spaces"`,
		"status 192.0.2.10",
	}
	if diff := cmp.Diff(want, batCalls(t, dir)); diff != "" {
		t.Errorf("%%1 %%2 ... as the batch file saw them (-want +got):\n%s", diff)
	}
}

// TestBatchFileExitCodes: exit /b reaches the backend through cmd.exe, with
// the output, so a failed enable is explicit and an unknown observe answer
// is an error.
func TestBatchFileExitCodes(t *testing.T) {
	dir := writeBat(t, "IPTakeOver.bat", "@echo off\necho netsh failed: The object already exists.\nexit /b 3\n")
	bat := filepath.Join(dir, "IPTakeOver.bat")
	b, err := New(batSpec, map[string]any{"enable": []any{bat, "enable"}, "disable": []any{bat}, "observe": []any{bat}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := viptest.Context(t, time.Minute)
	for name, err := range map[string]error{"Enable": b.Enable(ctx, false), "Observe": func() error { _, err := b.Observe(ctx); return err }()} {
		var ee *reactions.ExecError
		if !errors.As(err, &ee) || ee.ExitCode != 3 || !strings.Contains(ee.Output, "The object already exists.") {
			t.Errorf("%s error = %v, want an ExecError with exit code 3 and the output", name, err)
			continue
		}
		if got := ee.Argv[4:]; got[0] != bat {
			t.Errorf("%s ran %q, want the batch file through cmd.exe", name, ee.Argv)
		}
	}
}

// TestBatchFileRefusedArguments: what cmd.exe would interpret is refused
// when the backend is built, and nothing runs.
func TestBatchFileRefusedArguments(t *testing.T) {
	dir := writeBat(t, "IPTakeOver.bat", takeoverBat)
	tests := []struct {
		name string
		spec vip.Spec
		arg  string
	}{
		{"ampersand", batSpec, "a&b"},
		{"pipe", batSpec, "a|b"},
		{"redirection", batSpec, "a>b"},
		{"caret", batSpec, "a^b"},
		{"percent", batSpec, "%PATH%"},
		{"bang", batSpec, "!x!"},
		{"quote", batSpec, `a"b`},
		{"interface", vip.Spec{Name: "v", Prefix: batSpec.Prefix, Interface: "LAN & more"}, "${interface}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.spec, map[string]any{"dir": dir, "enable": []any{"IPTakeOver.bat", "enable", tt.arg}, "disable": []any{"IPTakeOver.bat", "disable"}})
			if err == nil || !strings.Contains(err.Error(), "cmd.exe would interpret") {
				t.Fatalf("New = %v, want the argument refused", err)
			}
		})
	}
	if calls := batCalls(t, dir); len(calls) != 0 {
		t.Errorf("the batch file ran: %q", calls)
	}
}

// TestHangingBatchFileIsKilled: a batch file that starts a program which
// starts another times out, and cmd.exe and the whole tree go with it.
func TestHangingBatchFileIsKilled(t *testing.T) {
	dir := writeBat(t, "IPTakeOver.bat", "@echo off\n\"%~dp0sleeper.exe\" %*\n")
	viptest.InstallFake(t, dir, "sleeper")
	b, err := New(batSpec, map[string]any{"dir": dir, "enable": []any{"IPTakeOver.bat", "enable"}, "disable": []any{"IPTakeOver.bat", "disable", "${interface}"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := viptest.TreeDeadline(t, dir, time.Minute)
	viptest.ReturnsAfterDeadline(t, ctx, 30*time.Second, func() { err = b.Disable(ctx) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Disable error = %v, want DeadlineExceeded", err)
	}
	for _, f := range append(viptest.TreePIDFiles(dir), filepath.Join(dir, "ppid.0")) {
		viptest.WaitGone(t, f, 5*time.Second)
	}
}

// checkIPVbs answers like Genesys' Check_Ip.vbs: 1 when the address is
// found (here: the file "state" next to it exists), 0 when not, -1 without
// its two arguments.
const checkIPVbs = `If WScript.Arguments.Count < 2 Then WScript.Quit -1
Set fso = CreateObject("Scripting.FileSystemObject")
If fso.FileExists(fso.BuildPath(fso.GetParentFolderName(WScript.ScriptFullName), "state")) Then
	WScript.Echo WScript.Arguments(0) & " found on " & WScript.Arguments(1)
	WScript.Quit 1
End If
WScript.Echo WScript.Arguments(0) & " not found on " & WScript.Arguments(1)
WScript.Quit 0
`

// TestReadmeGenesysExample runs the README's script example as written:
// Genesys' IPTakeOver.bat with this node's member ID, and Check_Ip.vbs
// through the system's cscript.exe with its reversed exit codes.
func TestReadmeGenesysExample(t *testing.T) {
	dir := writeBat(t, "IPTakeOver.bat", takeoverBat)
	if err := os.WriteFile(filepath.Join(dir, "Check_Ip.vbs"), []byte(strings.ReplaceAll(checkIPVbs, "\n", "\r\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	cscript, err := hostcmd.SystemProgram("cscript.exe")
	if err != nil {
		t.Fatal(err)
	}
	s := batSpec
	s.MemberID = 2
	b, err := New(s, map[string]any{
		"dir":             dir,
		"enable":          []any{"IPTakeOver.bat", "enable", "${member_id}"},
		"disable":         []any{"IPTakeOver.bat", "disable", "${member_id}"},
		"observe":         []any{cscript, "//nologo", "Check_Ip.vbs", "${vip}", "localhost"},
		"observe_present": []any{1},
		"observe_absent":  []any{0},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := viptest.Context(t, time.Minute)
	for _, step := range []struct {
		act  func() error
		want bool
	}{{nil, false}, {func() error { return b.Enable(ctx, false) }, true}, {func() error { return b.Disable(ctx) }, false}} {
		if step.act != nil {
			if err := step.act(); err != nil {
				t.Fatal(err)
			}
		}
		st, err := b.Observe(ctx)
		if err != nil || st.Present != step.want {
			t.Fatalf("Observe = %+v, %v; want present=%v", st, err, step.want)
		}
		if !strings.Contains(st.Detail, "192.0.2.10") {
			t.Errorf("Detail = %q, want Check_Ip's answer", st.Detail)
		}
	}
	if diff := cmp.Diff([]string{"enable 2", "disable 2"}, batCalls(t, dir)); diff != "" {
		t.Errorf("%%1 %%2 as IPTakeOver.bat saw them (-want +got):\n%s", diff)
	}
}
