package cli

import (
	"context"
	"flag"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vipagent/vipagent/agent/config"
)

// cmdFailover is RM's failoverscript hook, with the NLB.bat calling
// convention: `enable X` makes member X the only holder of the failover
// VIPs, `disable` releases them on this host.
func cmdFailover(ctx context.Context, args []string, gargs map[string]string, env Env) error {
	var c common
	fs := newFlags("failover", env, &c)
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for the result")
	pos, err := parseFailover(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || (pos[0] != "enable" && pos[0] != "disable") {
		return exitf(ExitUsage, "usage: vipagent failover enable|disable [MEMBERID [ARGS...]]")
	}
	cl, err := newClient(c, env, *wait, config.RoleTrigger, config.RoleAdmin)
	if err != nil {
		return err
	}
	defer cl.close()
	req := map[string]any{"action": pos[0], "genesys_args": gargs}
	if len(pos) >= 2 {
		id, err := parseMemberID(pos[1])
		if err != nil {
			return err
		}
		req["member_id"] = id
	}
	if len(pos) > 2 {
		// Whatever RM adds after the member ID is journaled, not refused.
		req["extra_args"] = pos[2:]
	}
	code, resp, err := cl.do(ctx, http.MethodPost, "/v1/failover?wait="+wait.String(), req)
	if err != nil {
		return err
	}
	return cl.printResult(code, resp)
}

// parseFailover parses the hook's command line: vipagent's flags anywhere,
// then the action, the member ID and whatever RM adds. After the action, an
// argument that is not one of fs's flags is positional even when it starts
// with "-": RM's extra arguments are journaled rather than refused as
// unknown flags, and a member ID "-1" is refused as a member ID.
func parseFailover(fs *flag.FlagSet, env Env, args []string) ([]string, error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		f, inline := lookupFlag(fs, a)
		if f == nil && (len(pos) > 0 || !strings.HasPrefix(a, "-")) {
			pos = append(pos, a)
			continue
		}
		n := 1
		if f != nil && !inline && !isBoolFlag(f) && i+1 < len(args) {
			n = 2 // the flag's value
		}
		p, err := parse(fs, env, args[i:i+n])
		if err != nil {
			return nil, err
		}
		pos = append(pos, p...)
		i += n - 1
	}
	return pos, nil
}

// lookupFlag finds the flag a "-name", "--name" or "--name=value" argument
// names in fs; inline reports a value after "=".
func lookupFlag(fs *flag.FlagSet, a string) (f *flag.Flag, inline bool) {
	name, ok := strings.CutPrefix(a, "-")
	if !ok {
		return nil, false
	}
	name = strings.TrimPrefix(name, "-")
	name, _, inline = strings.Cut(name, "=")
	return fs.Lookup(name), inline
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// parseMemberID reads RM's mymemberid as RM writes it: decimal digits, no
// sign, no leading zero (Atoi alone would take "+1" and "01" as member 1,
// which Genesys' NLB.bat, comparing strings, would not).
func parseMemberID(s string) (int, error) {
	bad := exitf(ExitUsage, "failover: MEMBERID must be a positive number such as 1 or 2, got %q", s)
	if s == "" || len(s) > 9 || s[0] == '0' {
		return 0, bad
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, bad
		}
	}
	id, err := strconv.Atoi(s)
	if err != nil {
		return 0, bad
	}
	return id, nil
}
