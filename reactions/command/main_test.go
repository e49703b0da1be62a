package command

import (
	"os"
	"testing"

	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// TestMain lets the test binary, copied as sleeper(.exe), be the process
// tree the kill tests time out (viptest.Sleeper).
func TestMain(m *testing.M) {
	viptest.RunFakes(map[string]viptest.Fake{"sleeper": viptest.Sleeper})
	os.Exit(m.Run())
}
