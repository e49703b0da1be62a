package nlb

import (
	"errors"
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

// parseQuery finds the host's state in the output of `query`. Only the
// lines that start with "Host" count: the banner, the cluster line and the
// list of member priorities say nothing about this host, and newer versions
// add "Host N has entered a converging state N time(s) since its last
// reboot", which is history, not state.
func parseQuery(out string) (hostState, error) {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.ToLower(strings.TrimSpace(l))
		if strings.HasPrefix(l, "host ") && !strings.Contains(l, "has entered") {
			lines = append(lines, l)
		}
	}
	for _, m := range queryMarkers {
		for _, l := range lines {
			if strings.Contains(l, m.phrase) {
				return m.state, nil
			}
		}
	}
	return stateUnknown, errUnrecognised
}
