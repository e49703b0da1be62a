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
// isBatch and batchArgv).

// cmdExePrefix is the argv shape that asks for cmd.exe quoting.
var cmdExePrefix = []string{"/d", "/s", "/c"}

// isCmdExeArgv reports whether argv runs a batch file through cmd.exe in
// the shape above.
func isCmdExeArgv(argv []string) bool {
	if len(argv) < 5 || !strings.EqualFold(windowsBase(argv[0]), "cmd.exe") {
		return false
	}
	for i, a := range cmdExePrefix {
		if !strings.EqualFold(argv[1+i], a) {
			return false
		}
	}
	return true
}

// windowsBase is the last element of a path with \ or / separators, on
// every OS (the logic is tested on Linux).
func windowsBase(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return filepath.Base(p)
}

// cmdExeRefused are the characters an argument for a batch file may not
// hold.
const cmdExeRefused = "\"%!&|<>^\x00\r\n"

// isBatch reports whether Windows runs path as a batch file: .bat or .cmd
// in any case, also behind the trailing dots and spaces Windows strips from
// a file name (on every OS, so the logic is tested on Linux).
func isBatch(path string) bool {
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

// cmdExeCommandLine builds cmd.exe's command line for an argv that
// isCmdExeArgv accepted.
func cmdExeCommandLine(argv []string) (string, error) {
	if strings.ContainsAny(argv[4], "\"%!\x00\r\n") {
		return "", fmt.Errorf("script %q for cmd.exe holds a quote, %%, ! or a line break, which cmd.exe would interpret", argv[4])
	}
	for _, a := range argv[5:] {
		if strings.ContainsAny(a, cmdExeRefused) {
			return "", fmt.Errorf("argument %q for cmd.exe holds one of \" %% ! & | < > ^ or a line break, which cmd.exe would interpret", a)
		}
	}
	if argv[4] == "" {
		return "", errors.New("empty script for cmd.exe")
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
