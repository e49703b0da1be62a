package config

import (
	"fmt"
	"strings"

	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/command"
)

// ShellPlaceholdersOptIn is the only value of a command's shell_placeholders
// key. A command whose argv hands a placeholder to a command interpreter
// (sh -c, cmd.exe /c, powershell -Command, ssh) runs whatever an alarm's
// sender writes into that field; the key says in words that the author
// knows.
const ShellPlaceholdersOptIn = "i-understand-this-runs-a-shell"

// posixShells are the interpreters whose -c argument is a command line.
var posixShells = map[string]bool{
	"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "mksh": true,
	"ash": true, "yash": true, "fish": true,
}

// argvBase is an argv element's program name as Windows or Unix would look
// it up: the last path element (either separator), lower case, without .exe.
func argvBase(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		p = p[i+1:]
	}
	p = strings.ToLower(strings.TrimRight(p, ". "))
	return strings.TrimSuffix(p, ".exe")
}

// shellPlaceholder returns the index of the first argv element that holds
// a placeholder a command interpreter would read as code, and the
// interpreter, or -1. The interpreter is found anywhere in argv, so that
// wrappers (/usr/bin/env sh, sudo -u x bash, timeout 5 sh) do not hide it.
//
//   - sh, bash, dash, zsh, ...: the options and the first operand (with -c
//     the command string, without it the script) are code; operands after
//     it are positional parameters ($0, $1, ...) and safe as data:
//     [sh, -c, 'echo "$1"', sh, '${text}'].
//   - su and runuser: the argument of -c/--command.
//   - cmd and cmd.exe: every argument (cmd.exe parses its command line
//     itself, %VAR% expands inside quotes).
//   - powershell and pwsh: every argument, except those after -File PATH
//     (the script's parameters).
//   - ssh: every argument (the remote side hands them to a shell).
func shellPlaceholder(argv []string) (int, string) {
	for i := 0; i < len(argv); i++ {
		base := argvBase(argv[i])
		rest := argv[i+1:]
		var at int
		switch {
		case posixShells[base]:
			at = posixShellCode(rest)
		case base == "su" || base == "runuser":
			at = suCode(rest)
		case base == "cmd":
			at = firstPlaceholder(rest, 0)
		case base == "powershell" || base == "pwsh":
			at = powershellCode(rest)
		case base == "ssh":
			at = firstPlaceholder(rest, 0)
		default:
			continue
		}
		if at >= 0 {
			return i + 1 + at, argv[i]
		}
		return -1, "" // the interpreter's own arguments were checked as such
	}
	return -1, ""
}

// firstPlaceholder is the index of the first element of args from from on
// that holds a placeholder, or -1.
func firstPlaceholder(args []string, from int) int {
	for i := from; i < len(args); i++ {
		if reactions.HasPlaceholder(args[i]) {
			return i
		}
	}
	return -1
}

// posixShellCode is the index of a placeholder in a POSIX shell's options
// or first operand, or -1.
func posixShellCode(args []string) int {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if reactions.HasPlaceholder(a) {
			return i
		}
		switch {
		case a == "--" || a == "-":
			if i+1 < len(args) && reactions.HasPlaceholder(args[i+1]) {
				return i + 1
			}
			return -1
		case a == "-o" || a == "+o" || a == "-O" || a == "+O" || a == "--rcfile" || a == "--init-file":
			i++ // the option's value
			if i < len(args) && reactions.HasPlaceholder(args[i]) {
				return i
			}
		case strings.HasPrefix(a, "-") || strings.HasPrefix(a, "+"):
		default:
			return -1 // the first operand, checked above
		}
	}
	return -1
}

// suCode is the index of a placeholder in su's -c argument, or -1.
func suCode(args []string) int {
	for i, a := range args {
		switch {
		case a == "-c" || a == "--command" || a == "--session-command":
			if i+1 < len(args) && reactions.HasPlaceholder(args[i+1]) {
				return i + 1
			}
		case strings.HasPrefix(a, "--command=") || strings.HasPrefix(a, "--session-command=") ||
			strings.HasPrefix(a, "-c") && len(a) > 2:
			if reactions.HasPlaceholder(a) {
				return i
			}
		}
	}
	return -1
}

// powershellCode is the index of a placeholder PowerShell would run as
// code, or -1: anything up to and including -File's path (PowerShell takes
// every unambiguous prefix of a parameter name, with - or /).
func powershellCode(args []string) int {
	for i := 0; i < len(args); i++ {
		if reactions.HasPlaceholder(args[i]) {
			return i
		}
		name := strings.ToLower(strings.TrimLeft(args[i], "-/"))
		if name != "" && name != args[i] && strings.HasPrefix("file", name) {
			if i+1 < len(args) && reactions.HasPlaceholder(args[i+1]) {
				return i + 1
			}
			return -1
		}
	}
	return -1
}

// validateShellPlaceholders refuses a placeholder a command interpreter
// would run as code unless the command opts in.
func validateShellPlaceholders(path string, cmd Command, p *Problems) {
	switch cmd.ShellPlaceholders {
	case "":
	case ShellPlaceholdersOptIn:
		return
	default:
		p.add(path+".shell_placeholders", "%q: the only value is %s", cmd.ShellPlaceholders, ShellPlaceholdersOptIn)
		return
	}
	if i, shell := shellPlaceholder(cmd.Argv); i >= 0 {
		p.add(fmt.Sprintf("%s.argv[%d]", path, i),
			"%q hands a placeholder to %s, which would run an alarm's text as commands; "+
				"pass it as data instead (for sh: [sh, -c, 'echo \"$1\"', sh, '${text}']; for PowerShell: -File SCRIPT '${text}'; "+
				"for cmd.exe: the batch file as the program, [C:\\x.bat, '${text}']), "+
				"or set shell_placeholders: %s", cmd.Argv[i], shell, ShellPlaceholdersOptIn)
	}
}

// validateCmdExe checks a command that runs cmd.exe, or a batch file
// (which Windows runs through cmd.exe), as it will be checked when it runs:
// the one argv shape cmd.exe is given and its arguments without the
// characters it interprets. Placeholders are checked with empty values
// here; their values are checked when the step runs.
func validateCmdExe(path string, argv []string, p *Problems) {
	if len(argv) == 0 || (!command.IsCmdExe(argv[0]) && !command.IsBatch(argv[0])) {
		return
	}
	literal := make([]string, len(argv))
	for i, a := range argv {
		literal[i], _ = reactions.Expand(a, func(string) (string, bool) { return "", true })
	}
	var err error
	if command.IsCmdExe(argv[0]) {
		_, err = command.CmdExeArgv(literal)
	} else {
		err = command.CheckBatchArgv(literal)
	}
	if err != nil {
		p.add(path+".argv", "%v", err)
	}
}
