package cli

import (
	"strings"
)

// genesysFlags are the arguments LCA adds to the command line of every
// application it starts. vipagent records them and never chokes on them,
// wherever they appear.
var genesysFlags = map[string]bool{
	"host": true, "port": true, "app": true, "backup_host": true, "backup_port": true,
	"lmspath": true, "transport-port": true, "transport-address": true,
}

// SplitGenesysArgs removes Genesys' standard arguments ("-host h",
// "-app=x") from args and returns them separately. LCA writes them with one
// dash; vipagent's own flags are written with two ("--host" is the alarm's
// host, "-host" is LCA's), so only the one-dash forms are taken. A flag given
// twice keeps its last value; one at the very end with no value, or followed
// by a help word or a "--" word (vipagent's own flags, which a Genesys value
// never is), is recorded as empty, so that the word keeps its meaning.
func SplitGenesysArgs(args []string) (rest []string, genesys map[string]string) {
	rest = make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, ok := strings.CutPrefix(a, "-")
		if !ok || strings.HasPrefix(name, "-") {
			rest = append(rest, a)
			continue
		}
		val, hasVal := "", false
		if k, v, found := strings.Cut(name, "="); found {
			name, val, hasVal = k, v, true
		}
		if !genesysFlags[name] {
			rest = append(rest, a)
			continue
		}
		if next := i + 1; !hasVal && next < len(args) && !helpWords[args[next]] && !strings.HasPrefix(args[next], "--") {
			val = args[i+1]
			i++
		}
		if genesys == nil {
			genesys = map[string]string{}
		}
		genesys[name] = val
	}
	return rest, genesys
}
