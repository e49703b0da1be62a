package nlb

// What the tests share on every OS: the Go fake of nlb.exe and wlbs.exe
// (the test binary copied under those names, see TestMain) and the parser
// tests. nlb_test.go drives a shell-script fake on Unix; nlb_windows_test.go
// drives the Go fake through Windows' own command line handling.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

func TestMain(m *testing.M) {
	viptest.RunFakes(map[string]viptest.Fake{
		"nlb":     fakeNLBProgram,
		"wlbs":    fakeNLBProgram,
		"sleeper": viptest.Sleeper,
	})
	os.Exit(m.Run())
}

// fakeNLBProgram answers like Windows' NLB control program, in English,
// keeping this host's state in the file "state" next to it: start moves a
// stopped host to converging; a query of a converging host answers
// converging once, then converged as DEFAULT; drainstop moves to draining,
// which a query answers once before the host is stopped. Like the real
// program (the Windows Server 2003 source returns CVY_OK = 1 after every
// processed command) it exits 1 whether or not the command worked.
func fakeNLBProgram(dir string, args []string, stdout io.Writer) int {
	stateFile := filepath.Join(dir, "state")
	data, err := os.ReadFile(stateFile)
	state := strings.TrimSpace(string(data))
	if errors.Is(err, os.ErrNotExist) {
		state = "stopped"
	} else if err != nil {
		fmt.Fprintln(stdout, err)
		return 2
	}
	next := state
	fmt.Fprintln(stdout, "WLBS Cluster Control Utility V2.4 (c) 1997-2003 Microsoft Corporation.")
	verb := ""
	if len(args) > 0 {
		verb = strings.ToLower(args[0])
	}
	switch verb {
	case "start":
		if state == "stopped" {
			next = "converging"
			fmt.Fprintln(stdout, "Cluster operations started.")
		} else {
			fmt.Fprintln(stdout, "Cluster operations already started.")
		}
	case "enable":
		if state == "stopped" {
			fmt.Fprintln(stdout, "Cannot modify traffic handling because cluster operations are stopped.")
		} else {
			fmt.Fprintln(stdout, "Traffic handling for specified port rule(s) enabled.")
		}
	case "drainstop":
		next = "draining"
		fmt.Fprintln(stdout, "Connection draining started.")
	case "stop":
		next = "stopped"
		fmt.Fprintln(stdout, "Cluster operations stopped.")
	case "query":
		fmt.Fprintf(stdout, "Cluster %s\n", args[1])
		switch state {
		case "converging":
			fmt.Fprintln(stdout, "Host 1 has entered a converging state 2 time(s) since its last reboot.")
			fmt.Fprint(stdout, "Host 1 converging with the following host(s) as part of the cluster:\n1, 2\n")
			next = "default"
		case "default":
			fmt.Fprintln(stdout, "Host 1 has entered a converging state 3 time(s) since its last reboot.")
			fmt.Fprint(stdout, "Host 1 converged as DEFAULT with the following host(s) as part of the cluster:\n1, 2\n")
		case "draining":
			fmt.Fprint(stdout, "Host 1 draining connections with the following host(s) as part of the cluster:\n1, 2\n")
			next = "stopped"
		case "stopped":
			fmt.Fprintln(stdout, "Host 1 is stopped and does not know convergence state of the cluster.")
		}
	default:
		fmt.Fprintln(stdout, "Usage: ...")
		return 255
	}
	if next != state {
		if err := os.WriteFile(stateFile, []byte(next+"\n"), 0o644); err != nil {
			fmt.Fprintln(stdout, err)
			return 2
		}
	}
	return 1
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		out  string
		want hostState
	}{
		{"Host 2 converged with the following host(s) as part of the cluster:\n1, 2\n", stateConverged},
		{"Host 1 has entered a converging state 3 time(s) since its last reboot.\nHost 1 converged as DEFAULT with the following host(s) as part of the cluster:\n1, 2\n", stateDefault},
		{"Host 1 converging with the following host(s) as part of the cluster:\n1\n", stateConverging},
		{"Host 1 draining connections with the following host(s) as part of the cluster:\n", stateDraining},
		{"Host 1 is stopped and does not know convergence state of the cluster.\n", stateStopped},
		{"Host 1 is stopped and has cluster control mode suspended.\n", stateSuspended},
		{"Host 1 is disconnected from the network.\n", stateDisconnected},
	}
	for _, tt := range tests {
		got, err := parseQuery("WLBS Cluster Control Utility V2.4 (c) 1997-2003 Microsoft Corporation.\nCluster 192.0.2.10\n" + tt.out)
		if err != nil || got != tt.want {
			t.Errorf("parseQuery(%q) = %v, %v; want %v", tt.out, got, err, tt.want)
		}
	}
	for _, out := range []string{"", "Cluster 192.0.2.10\n", "Host 1 hat den Zustand Konvergiert.\n", "Host 1 has entered a converging state 3 time(s) since its last reboot.\n"} {
		if st, err := parseQuery(out); !errors.Is(err, errUnrecognised) {
			t.Errorf("parseQuery(%q) = %v, %v; want errUnrecognised", out, st, err)
		}
	}
}
