package cli

import (
	"strconv"
	"testing"
)

// Only RM's own spelling of a member ID is accepted; every other string is
// exit 2, never a silent member 1.
func TestParseMemberID(t *testing.T) {
	for _, s := range []string{"", "0", "-1", "+1", "01", "1.0", " 1", "1 ", "１", "1e0", "0x1", "99999999999999999999", "1234567890"} {
		if id, err := parseMemberID(s); err == nil || ExitCode(err) != ExitUsage {
			t.Errorf("parseMemberID(%q) = %d, %v; want exit 2", s, id, err)
		}
	}
	for want := 1; want < 1_000_000_000; want = want*7 + 3 {
		if id, err := parseMemberID(strconv.Itoa(want)); err != nil || id != want {
			t.Errorf("parseMemberID(%d) = %d, %v", want, id, err)
		}
	}
}
