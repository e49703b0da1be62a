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
// inside quotes, and a quote would end the quoting. Arguments holding any
// of " % ! or a line break are refused; callers (the script backend) refuse
// the other metacharacters (& | < > ^) before they get here.

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

// cmdExeCommandLine builds cmd.exe's command line for an argv that
// isCmdExeArgv accepted.
func cmdExeCommandLine(argv []string) (string, error) {
	for _, a := range argv[4:] {
		if strings.ContainsAny(a, "\"%!\x00\r\n") {
			return "", fmt.Errorf("argument %q for cmd.exe holds a quote, %%, ! or a line break, which cmd.exe would interpret", a)
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
