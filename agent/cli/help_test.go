package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// A command's --help is a request, not a mistake: the usage on stdout, exit
// 0 and no error line; a bad flag is exit 2 with the usage on stderr and the
// error once.
func TestHelpAndBadFlag(t *testing.T) {
	getenv := func(string) string { return "" }
	for _, cmd := range []string{"serve", "demo", "fire", "failover", "replay", "events", "vip", "reports", "config", "journal", "genesys"} {
		t.Run(cmd, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := Run(context.Background(), []string{cmd, "--help"}, getenv, nil, &out, &errOut)
			if err != nil || ExitCode(err) != ExitOK {
				t.Errorf("%s --help: %v (exit %d), want nil", cmd, err, ExitCode(err))
			}
			if !strings.Contains(out.String(), "Exit codes:") {
				t.Errorf("%s --help: stdout lacks the usage:\n%s", cmd, out.String())
			}
			if errOut.Len() != 0 {
				t.Errorf("%s --help: unexpected stderr:\n%s", cmd, errOut.String())
			}

			out.Reset()
			errOut.Reset()
			err = Run(context.Background(), []string{cmd, "--colour", "red"}, getenv, nil, &out, &errOut)
			if ExitCode(err) != ExitUsage || err == nil || !strings.Contains(err.Error(), "flag provided but not defined: -colour") {
				t.Errorf("%s --colour: %v (exit %d), want exit 2 naming the flag", cmd, err, ExitCode(err))
			}
			if strings.Contains(errOut.String(), "not defined") || !strings.Contains(errOut.String(), "Usage:") {
				t.Errorf("%s --colour: stderr should hold the usage and not the error (main prints that once):\n%s", cmd, errOut.String())
			}
		})
	}
}
