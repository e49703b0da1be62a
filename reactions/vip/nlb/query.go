package nlb

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// hostState is this host's NLB state as `nlb query <cluster> local` reports
// it.
type hostState int

const (
	stateUnknown hostState = iota
	stateConverged
	stateDefault // converged as the default host
	stateConverging
	stateDraining
	stateStopped
	stateSuspended
	stateDisconnected
)

func (s hostState) String() string {
	return [...]string{"unknown", "converged", "converged as DEFAULT", "converging", "draining",
		"stopped", "suspended", "disconnected from the network"}[s]
}

// handlesTraffic reports whether the host takes new connections for the
// cluster (or is joining to do so): the NLB meaning of "holds the VIP". A
// draining host only finishes old connections, so it counts as released.
func (s hostState) handlesTraffic() bool {
	return s == stateConverged || s == stateDefault || s == stateConverging
}

// settled reports whether the state is the final one for want: a
// converging host is on its way, not there.
func (s hostState) settled(want bool) bool {
	if want {
		return s == stateConverged || s == stateDefault
	}
	return !s.handlesTraffic()
}

// listsMembers reports whether the control program follows the state line
// with the cluster's member list ("... with the following host(s) as part
// of the cluster:").
func (s hostState) listsMembers() bool {
	return s == stateConverged || s == stateDefault || s == stateConverging || s == stateDraining
}

// view is what one `query` shows: this host's ID (its NLB host priority,
// which the Genesys procedure makes the RM's member ID) and state, and the
// hosts the cluster converged with, as NLB itself sees them. members is
// empty for a host that is stopped (it does not know the cluster's state).
type view struct {
	self    int
	state   hostState
	members []int
}

// others are the converged hosts other than this one.
func (v view) others() []int {
	var out []int
	for _, m := range v.members {
		if m != v.self {
			out = append(out, m)
		}
	}
	return out
}

func (v view) String() string {
	if len(v.members) == 0 {
		return fmt.Sprintf("host %d %s", v.self, v.state)
	}
	return fmt.Sprintf("host %d %s, cluster members %s", v.self, v.state, hostList(v.members))
}

func hostList(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ", ")
}

var errUnrecognised = errors.New("output not recognised: vipagent reads the English messages of nlb.exe/wlbs.exe (their exit code does not carry the state); on a Windows with another display language use the script backend with an observe script")

// queryMarkers map phrases of the control program's English messages
// (Windows' wlbs/nlb message table) to states, most specific first:
//
//	Host 1 is stopped and has cluster control mode suspended.
//	Host 1 is disconnected from the network.
//	Host 1 is stopped and does not know convergence state of the cluster.
//	Host 1 draining connections with the following host(s) as part of the cluster:
//	Host 1 converged as DEFAULT with the following host(s) as part of the cluster:
//	Host 1 converged with the following host(s) as part of the cluster:
//	Host 1 converging with the following host(s) as part of the cluster:
//
// The member list follows on the next line ("1, 2"). Newer versions print
// "Host 2 has entered a converging state 3 time(s) since joining the
// cluster" before the state, continued by a line starting "and the last
// convergence completed at approximately: ..." or "and is still in a state
// of convergence."; that is history, not state.
var queryMarkers = []struct {
	phrase string
	state  hostState
}{
	{"suspended", stateSuspended},
	{"disconnected from the network", stateDisconnected},
	{"is stopped", stateStopped},
	{"draining", stateDraining},
	{"converged as default", stateDefault},
	{"converged with", stateConverged},
	{"converging with", stateConverging},
	{"is converging", stateConverging},
	{"is converged", stateConverged},
}

const maxHostID = 32 // NLB's host priorities run from 1 to 32

// parseQuery reads this host's ID, its state and the cluster's member list
// from the output of `query`. Only the lines that start with "Host" name
// a state: the banner, the cluster line and the history lines say nothing
// about it. A state that is followed by a member list must have one that
// names this host: a list that is missing, cut off or holds anything but
// host IDs means the answer was truncated or is not what we think it is,
// and it never counts as converged or stopped.
func parseQuery(out string) (view, error) {
	lines := strings.Split(strings.ReplaceAll(out, "\r", ""), "\n")
	for _, m := range queryMarkers {
		for i, l := range lines {
			l = strings.ToLower(strings.TrimSpace(l))
			if !strings.HasPrefix(l, "host ") || strings.Contains(l, "has entered") || !strings.Contains(l, m.phrase) {
				continue
			}
			v := view{state: m.state}
			id, err := strconv.Atoi(strings.Fields(l)[1])
			if err != nil || id < 1 || id > maxHostID {
				return view{}, fmt.Errorf("%w (no host ID in %q)", errUnrecognised, strings.TrimSpace(lines[i]))
			}
			v.self = id
			if !m.state.listsMembers() {
				return v, nil
			}
			members, err := memberList(l, lines[i+1:])
			if err != nil {
				return view{}, err
			}
			if m.state != stateConverging && !slices.Contains(members, id) {
				return view{}, fmt.Errorf("%w (the member list of host %d %s does not name it: truncated?)", errUnrecognised, id, m.state)
			}
			v.members = members
			return v, nil
		}
	}
	return view{}, errUnrecognised
}

// memberList reads the host IDs after the state line's colon: on the same
// line or on the lines below, up to the first line that holds no list.
// A converging host may list nobody yet.
func memberList(stateLine string, rest []string) ([]int, error) {
	_, after, ok := strings.Cut(stateLine, ":")
	if !ok {
		return nil, fmt.Errorf("%w (no member list after %q)", errUnrecognised, stateLine)
	}
	text := []string{after}
	for _, l := range rest {
		l = strings.TrimSpace(l)
		if l == "" || strings.Trim(l, "0123456789, ") != "" {
			break
		}
		text = append(text, l)
	}
	var ids []int
	for _, f := range strings.FieldsFunc(strings.Join(text, " "), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		id, err := strconv.Atoi(f)
		if err != nil || id < 1 || id > maxHostID {
			return nil, fmt.Errorf("%w (%q is not a host ID in the member list)", errUnrecognised, f)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}
