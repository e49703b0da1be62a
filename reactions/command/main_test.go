package command

import (
	"encoding/hex"
	"io"
	"os"
	"testing"

	"github.com/vipagent/vipagent/reactions/vip/viptest"
)

// TestMain lets the test binary, copied as sleeper(.exe), be the process
// tree the kill tests time out (viptest.Sleeper), and copied as
// rawtext(.exe), a program that writes the bytes its hex arguments spell
// (see TestOutputIsDecoded).
func TestMain(m *testing.M) {
	writeArgs := func(_ string, args []string, stdout io.Writer) int {
		for _, a := range args {
			b, err := hex.DecodeString(a)
			if err != nil {
				return 125
			}
			stdout.Write(b)
		}
		return 0
	}
	viptest.RunFakes(map[string]viptest.Fake{"sleeper": viptest.Sleeper, "rawtext": writeArgs})
	os.Exit(m.Run())
}
