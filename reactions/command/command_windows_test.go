package command

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// TestRunKillsJobTree times out a program whose child started a grandchild,
// started directly and from a batch file through cmd.exe: the job object
// must take the whole tree, which the test checks PID by PID through the
// Windows API.
func TestRunKillsJobTree(t *testing.T) {
	sysdir, err := windows.GetSystemDirectory()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		argv func(dir, sleeper string) []string
		// cmdExe says ppid.0, the sleeper's parent, is cmd.exe and must go too.
		cmdExe bool
	}{
		{
			name: "program",
			argv: func(dir, sleeper string) []string { return []string{sleeper} },
		},
		{
			name: "batch file",
			argv: func(dir, sleeper string) []string {
				bat := filepath.Join(dir, "long running.bat")
				if err := os.WriteFile(bat, []byte("@echo off\r\necho starting\r\n\"%~dp0sleeper.exe\"\r\necho not reached\r\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return []string{filepath.Join(sysdir, "cmd.exe"), "/d", "/s", "/c", bat}
			},
			cmdExe: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			argv := tt.argv(dir, viptest.InstallFake(t, dir, "sleeper"))
			ctx := viptest.TreeDeadline(t, dir, time.Minute)

			var res reactions.Exec
			var err error
			viptest.ReturnsAfterDeadline(t, ctx, 30*time.Second, func() { res, err = Run(ctx, argv, Options{}) })
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Run = %v, want DeadlineExceeded", err)
			}
			var ee *reactions.ExecError
			if !errors.As(err, &ee) || ee.Argv[0] != argv[0] {
				t.Errorf("Run = %v, want an ExecError for %s", err, argv[0])
			}
			if res.ExitCode != -1 {
				t.Errorf("exit code %d, want -1 for a killed program", res.ExitCode)
			}
			pids := viptest.TreePIDFiles(dir)
			if tt.cmdExe {
				pids = append(pids, filepath.Join(dir, "ppid.0"))
			}
			for _, f := range pids {
				viptest.WaitGone(t, f, 5*time.Second)
			}
		})
	}
}

// TestCmdExeRefusals: an argument cmd.exe would expand or end the quoting
// with never reaches it, and the batch file does not run; plain ones reach
// %1 %2 ... whole.
func TestCmdExeRefusals(t *testing.T) {
	sysdir, err := windows.GetSystemDirectory()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "with space")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bat := filepath.Join(dir, "args.bat")
	if err := os.WriteFile(bat, []byte("@echo off\r\n>>\"%~dp0ran.txt\" echo %1 %2 %3\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := filepath.Join(sysdir, "cmd.exe")
	for _, arg := range []string{"%PATH%", "!x!", `a"b`, "a\r\nb", "x&echo y"} {
		// Every spelling of cmd.exe gets the same check, not only /d /s /c.
		for _, prefix := range [][]string{{cmd, "/d", "/s", "/c"}, {cmd, "/c"}, {"CMD", "/C"}, {"cmd.exe", "/q", "/c"}} {
			t.Run(arg+" "+strings.Join(prefix[1:], " "), func(t *testing.T) {
				argv := append(append([]string{}, prefix...), bat, "x", arg)
				_, err := Run(context.Background(), argv, Options{})
				if err == nil || !strings.Contains(err.Error(), "cmd.exe would interpret") {
					t.Errorf("Run(%q) = %v, want the argument refused", argv, err)
				}
			})
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ran.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the batch file ran with a refused argument (stat: %v)", err)
	}
	if _, err := Run(context.Background(), []string{cmd, "/c", bat, "Ethernet 2", "a=b;c,d", "(x)"}, Options{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "ran.txt"))
	if want := "\"Ethernet 2\" \"a=b;c,d\" \"(x)\"\r\n"; err != nil || string(got) != want {
		t.Errorf("the batch file saw %q, %v; want %q", got, err, want)
	}
}

// TestBatchFileStartedDirectly: a `run` command may name a batch file as
// its program, with arguments that come from the alarm. CreateProcess,
// given a .bat, hands the whole command line to cmd.exe, which would run
// whatever follows an & in an argument; Run must build cmd.exe's command
// line itself, refuse what cmd.exe would interpret and still pass plain
// arguments whole, also for upper-case and trailing-dot spellings that
// Windows runs as batch files too.
func TestBatchFileStartedDirectly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "with space")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := []byte("@echo off\r\n>>\"%~dp0ran.txt\" echo %1 %2 %3\r\n")
	for _, name := range []string{"notify.bat", "NOTIFY2.CMD"} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bat := filepath.Join(dir, "notify.bat")
	for _, arg := range []string{"x&echo injected>pwned.txt", "x|echo injected>pwned.txt", "x>pwned.txt", "a^b", "%PATH%", "!x!", `a"b`} {
		t.Run(arg, func(t *testing.T) {
			_, err := Run(context.Background(), []string{bat, "alarm", arg}, Options{Dir: dir})
			if err == nil || !strings.Contains(err.Error(), "cmd.exe would interpret") {
				t.Errorf("Run = %v, want the argument refused", err)
			}
		})
	}
	for _, f := range []string{"pwned.txt", "ran.txt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s exists after refused arguments: cmd.exe ran them (stat: %v)", f, err)
		}
	}
	for _, prog := range []string{bat, filepath.Join(dir, "NOTIFY2.CMD"), bat + "."} {
		if _, err := Run(context.Background(), []string{prog, "Ethernet 2", "a=b;c,d", "(x)"}, Options{}); err != nil {
			t.Fatalf("Run(%s): %v", prog, err)
		}
	}
	got, err := os.ReadFile(filepath.Join(dir, "ran.txt"))
	line := "\"Ethernet 2\" \"a=b;c,d\" \"(x)\"\r\n"
	if want := strings.Repeat(line, 3); err != nil || string(got) != want {
		t.Errorf("the batch file saw %q, %v; want %q", got, err, want)
	}
}

// TestOutputIsDecoded: console programs write their localised messages into
// a pipe in the OEM code page (or, some, in UTF-16LE); the result carries
// them as UTF-8, or the journal's JSON would turn every accented letter
// into U+FFFD. Wine's OEM code page here is 437, where 0x82 is é and 0x85
// is à, as in 850.
func TestOutputIsDecoded(t *testing.T) {
	prog := viptest.InstallFake(t, t.TempDir(), "rawtext")
	tests := []struct {
		name, hex, want string
	}{
		{"oem code page", hex.EncodeToString([]byte("d\x82j\x85 vu\r\n")), "déjà vu\r\n"},
		{"utf-16le", hex.EncodeToString(utf16le("Élément introuvable.\r\n", true)), "Élément introuvable.\r\n"},
		{"utf-8", hex.EncodeToString([]byte("déjà vu")), "déjà vu"},
	}
	if cp, _, _ := getOEMCP.Call(); cp != 437 && cp != 850 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("OEM code page %d: the test's bytes are written for 437 or 850, Wine's default", cp)
		}
		t.Skipf("OEM code page %d: the test's bytes are written for 437 or 850", cp)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), []string{prog, tt.hex}, Options{})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.Output != tt.want {
				t.Errorf("output %q, want %q", res.Output, tt.want)
			}
		})
	}
}
