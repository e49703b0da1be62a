package command

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Windows has no argv: a program gets one command line and parses it
// itself. Go quotes Args for the C runtime's rules, which cmd.exe does not
// follow, so a batch file run as [cmd.exe, /d, /s, /c, script, args...]
// gets its command line built here instead:
//
//	"C:\Windows\System32\cmd.exe" /d /s /c ""C:\GVP\IPTakeOver.bat" enable "Ethernet 2""
//
// /s makes cmd.exe strip exactly the outer pair of quotes and run the rest;
// /d skips AutoRun commands from the registry. The script is always
// quoted; an argument is quoted only when cmd.exe would split it (spaces,
// tabs, , ; = and parentheses), so that %1 in the script still compares
// equal to a plain word such as enable.
//
// Quoting cannot protect everything: cmd.exe expands %VAR% and !VAR! even
// inside quotes, a quote would end the quoting, and & | < > ^ in a bare
// argument would start another command or a redirection (and the batch file
// may use %~1, which drops the quotes we would add). Arguments holding any
// of " % ! & | < > ^ or a line break are refused; the script's path, always
// quoted, may hold & | < > ^ but not " % ! or a line break.
//
// A batch file named as the program itself (a `run` command's argv[0]) is
// no exception: CreateProcess would hand its whole command line to cmd.exe
// with the C runtime's quoting, so that an alarm's text holding "&calc"
// would start calc. Run turns such an argv into the shape above first (see
// IsBatch and batchArgv), and any argv that runs cmd.exe itself too (see
// CmdExeArgv).

// cmdExePrefix is the argv shape that asks for cmd.exe quoting.
var cmdExePrefix = []string{"/d", "/s", "/c"}

// IsCmdExe reports whether path names cmd.exe: cmd or cmd.exe in any
// case, with or without a directory (on every OS, so that the logic is
// tested on Linux and `config check` on Linux judges a Windows config).
func IsCmdExe(path string) bool {
	name := strings.ToLower(strings.TrimRight(windowsBase(path), ". "))
	return name == "cmd" || name == "cmd.exe"
}

// CmdExeArgv turns any argv that runs cmd.exe into the one shape
// cmdExeCommandLine quotes, [cmd.exe /d /s /c program args...], so that no
// cmd.exe argv reaches CreateProcess with the C runtime's quoting. Before
// /c it accepts /d, /s and /q (in any case); /k (cmd.exe would wait for
// input until the step's deadline) and the switches that change how cmd.exe
// reads its line (/v:on turns on !VAR! expansion, /e, /f, /a, /u, /t) are
// refused, as is an argv without a program after /c. The program and its
// arguments are checked with CheckBatchArgv.
func CmdExeArgv(argv []string) ([]string, error) {
	i := 1
	for ; i < len(argv); i++ {
		switch strings.ToLower(argv[i]) {
		case "/d", "/s", "/q":
			continue
		case "/c":
		case "/k":
			return nil, errors.New("cmd.exe /k keeps cmd.exe waiting for input; use /c")
		default:
			return nil, fmt.Errorf("cmd.exe switch %q is not allowed: use [cmd.exe, /d, /s, /c, PROGRAM, ARGS...]", argv[i])
		}
		break
	}
	if i >= len(argv) {
		return nil, errors.New("cmd.exe without /c: use [cmd.exe, /d, /s, /c, PROGRAM, ARGS...]")
	}
	rest := argv[i+1:]
	if len(rest) == 0 || rest[0] == "" {
		return nil, errors.New("cmd.exe /c without a program to run")
	}
	if err := CheckBatchArgv(rest); err != nil {
		return nil, err
	}
	return batchArgv(argv[0], rest[0], rest[1:]), nil
}

// windowsBase is the last element of a path with \ or / separators, on
// every OS (the logic is tested on Linux).
func windowsBase(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return filepath.Base(p)
}

// The characters cmd.exe interprets on its command line: the one set every
// batch file's arguments are checked against. A quote would end the
// quoting, %VAR% and !VAR! expand even inside quotes, and & | < > ^ in a
// bare argument (the batch file may use %~1, which drops the quotes) start
// another command or a redirection. The script's path is always quoted, so
// it may hold & | < > ^ but not " % ! or a line break.
const (
	cmdExeRefused       = "\"%!&|<>^\x00\r\n"
	cmdExeScriptRefused = "\"%!\x00\r\n"
)

// CheckBatchArgv reports why cmd.exe would interpret part of a batch
// file's argv (argv[0] the script, then its arguments), or nil.
func CheckBatchArgv(argv []string) error {
	if len(argv) == 0 || argv[0] == "" {
		return errors.New("empty script for cmd.exe")
	}
	if i := strings.IndexAny(argv[0], cmdExeScriptRefused); i >= 0 {
		return fmt.Errorf("script %q for cmd.exe holds %q, which cmd.exe would interpret (a quote, %%, ! or a line break)", argv[0], argv[0][i])
	}
	for _, a := range argv[1:] {
		if i := strings.IndexAny(a, cmdExeRefused); i >= 0 {
			return fmt.Errorf("argument %q for cmd.exe holds %q, which cmd.exe would interpret (one of \" %% ! & | < > ^ or a line break): batch files get only plain arguments", a, a[i])
		}
	}
	return nil
}

// IsBatch reports whether Windows runs path as a batch file: .bat or .cmd
// in any case, also behind the trailing dots and spaces Windows strips from
// a file name (on every OS, so the logic is tested on Linux).
func IsBatch(path string) bool {
	name := strings.TrimRight(windowsBase(path), ". ")
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return false
	}
	ext := strings.ToLower(name[i:])
	return ext == ".bat" || ext == ".cmd"
}

// batchArgv is the argv that runs script with args through cmdExe in the
// shape cmdExeCommandLine quotes.
func batchArgv(cmdExe, script string, args []string) []string {
	return append(append([]string{cmdExe}, cmdExePrefix...), append([]string{script}, args...)...)
}

// cmdExeLine is the command line of any argv that runs cmd.exe.
func cmdExeLine(argv []string) (string, error) {
	canon, err := CmdExeArgv(argv)
	if err != nil {
		return "", err
	}
	return cmdExeCommandLine(canon)
}

// cmdExeCommandLine builds cmd.exe's command line for an argv in the shape
// CmdExeArgv returns.
func cmdExeCommandLine(argv []string) (string, error) {
	if len(argv) < 5 {
		return "", errors.New("cmd.exe without a program to run")
	}
	if err := CheckBatchArgv(argv[4:]); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(`"` + argv[0] + `" /d /s /c "`)
	b.WriteString(`"` + argv[4] + `"`)
	for _, a := range argv[5:] {
		b.WriteByte(' ')
		if a == "" || strings.ContainsAny(a, " \t,;=()") {
			b.WriteString(`"` + a + `"`)
		} else {
			b.WriteString(a)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}
