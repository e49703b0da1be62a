//go:build unix

package agent

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// A real agent with an nlb VIP exposes the cluster's count of converged
// hosts under the series and labels the rules use (clusterSeries), also
// counting the host whose agent is down.
func TestClusterHoldersExposedByNLB(t *testing.T) {
	dir := t.TempDir()
	program := viptest.Write(t, dir, "nlb", "#!/bin/bash\necho \"Cluster $2\"\n"+
		"echo 'Host 1 converged with the following host(s) as part of the cluster:'\necho '1, 2'\nexit 1\n")
	ln1, gone := monListen(t), monListen(t)
	addrs := map[string]string{"rm1": ln1.Addr().String(), "rm2": gone.Addr().String()}
	ln1.Close()
	gone.Close()
	m := servedAgent(t, "rm1", addrs, "present", func(c *config.Config) {
		c.VIPs["cluster-vip"] = config.VIP{Address: "192.0.2.200/24", Backend: "nlb", Options: map[string]any{"program": program}}
		c.Schedules.Reconcile = "off"
	})
	series := `vipagent_vip_cluster_holders{address="192.0.2.200/24",backend="nlb",node="rm1",vip="cluster-vip"}`
	body := waitSample(t, m.Addr(), series, "2", 15*time.Second)
	want := map[string][]string{}
	for n := range maps.Keys(clusterSeries) {
		want[n] = exposedLabels(t, body)[n]
		slices.Sort(want[n])
	}
	if diff := cmp.Diff(clusterSeries, want); diff != "" {
		t.Errorf("cluster series as exposed (-rules +agent):\n%s", diff)
	}
}
