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

	"github.com/google/go-cmp/cmp"

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
// which a query answers once before the host is stopped. The file "others"
// next to it lists the other hosts the cluster converged with. Like the real
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
	members := "1"
	if others, _ := os.ReadFile(filepath.Join(dir, "others")); len(strings.TrimSpace(string(others))) > 0 {
		members += ", " + strings.TrimSpace(string(others))
	}
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
			fmt.Fprintf(stdout, "Host 1 converging with the following host(s) as part of the cluster:\n%s\n", members)
			next = "default"
		case "default":
			fmt.Fprintln(stdout, "Host 1 has entered a converging state 3 time(s) since its last reboot.")
			fmt.Fprintf(stdout, "Host 1 converged as DEFAULT with the following host(s) as part of the cluster:\n%s\n", members)
		case "draining":
			fmt.Fprintf(stdout, "Host 1 draining connections with the following host(s) as part of the cluster:\n%s\n", members)
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
		want view
	}{
		{"Host 2 converged with the following host(s) as part of the cluster:\n1, 2\n", view{2, stateConverged, []int{1, 2}}},
		{"Host 2 converged with the following host(s) as part of the cluster:\r\n2\r\n", view{2, stateConverged, []int{2}}},
		{"Host 1 has entered a converging state 3 time(s) since its last reboot.\nHost 1 converged as DEFAULT with the following host(s) as part of the cluster:\n1, 2\n", view{1, stateDefault, []int{1, 2}}},
		// Newer systems continue the history line; the continuation is
		// not a state.
		{"Host 2 has entered a converging state 3 time(s) since joining the cluster\n  and the last convergence completed at approximately: 12/7/2026 3:41:38 AM\nHost 2 converged with the following host(s) as part of the cluster:\n2\n", view{2, stateConverged, []int{2}}},
		{"Host 2 has entered has entered a converging state 1 time(s) since joining the cluster\nand is still in a state of convergence.\nHost 2 converging with the following host(s) as part of the cluster:\n1\n", view{2, stateConverging, []int{1}}},
		// A converging host may list nobody yet (KB 812870).
		{"Host 2 converging with the following host(s) as part of the cluster:\n", view{2, stateConverging, nil}},
		{"Host 1 draining connections with the following host(s) as part of the cluster:\n1, 2\n", view{1, stateDraining, []int{1, 2}}},
		{"Host 3 converged with the following host(s) as part of the cluster:\n1, 3,\n12\n\nDone.\n", view{3, stateConverged, []int{1, 3, 12}}},
		{"Host 1 is stopped and does not know convergence state of the cluster.\n", view{1, stateStopped, nil}},
		{"Host 1 is stopped and has cluster control mode suspended.\n", view{1, stateSuspended, nil}},
		{"Host 1 is disconnected from the network.\n", view{1, stateDisconnected, nil}},
	}
	for _, tt := range tests {
		got, err := parseQuery("WLBS Cluster Control Utility V2.4 (c) 1997-2003 Microsoft Corporation.\nCluster 192.0.2.10\n" + tt.out)
		if err != nil {
			t.Errorf("parseQuery(%q): %v", tt.out, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(view{})); diff != "" {
			t.Errorf("parseQuery(%q) (-want +got):\n%s", tt.out, diff)
		}
	}
	// Another display language, a truncated answer, a list that is not
	// one: never converged, never stopped.
	for _, out := range []string{
		"", "Cluster 192.0.2.10\n", "Host 1 hat den Zustand Konvergiert.\n",
		"Host 1 has entered a converging state 3 time(s) since its last reboot.\n",
		"Host 2 converged with the following host(s) as part of the cluster:\n",
		"Host 2 converged with the following host(s) as part of the cluster:\n1\n",
		"Host 2 converged with the following host(s) as part of the cluster",
		"Host 2 converged with the following host(s) as part of the cluster:\n1, 2x\n",
		"Host 2 converged with the following host(s) as part of the cluster:\n1, 99\n",
		"Host 1 draining connections with the following host(s) as part of the cluster:\n",
		"Host X converged with the following host(s) as part of the cluster:\n1\n",
		"Hôte 2 convergé avec les hôtes suivants faisant partie du cluster :\n1, 2\n",
	} {
		if v, err := parseQuery(out); !errors.Is(err, errUnrecognised) {
			t.Errorf("parseQuery(%q) = %v, %v; want errUnrecognised", out, v, err)
		}
	}
}
