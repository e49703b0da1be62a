package agenttest

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestRequire(t *testing.T) {
	missing := errors.New("not root")
	tests := []struct {
		name        string
		ci          string
		missing     error
		wantSkipped bool
		wantFailed  bool
	}{
		{name: "present", ci: "", missing: nil},
		{name: "present in CI", ci: "true", missing: nil},
		{name: "missing on a laptop", ci: "", missing: missing, wantSkipped: true},
		{name: "missing in CI", ci: "true", missing: missing, wantFailed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := run(t, func(tb testing.TB) { Require(tb, "root and network namespaces", tt.missing) })
			if r.skipped != tt.wantSkipped || r.failed != tt.wantFailed {
				t.Fatalf("skipped %v failed %v (%q); want skipped %v failed %v", r.skipped, r.failed, r.msg, tt.wantSkipped, tt.wantFailed)
			}
			if tt.missing != nil && (!strings.Contains(r.msg, "root and network namespaces") || !strings.Contains(r.msg, "not root")) {
				t.Errorf("message %q does not say what is needed and why it is missing", r.msg)
			}
		})
	}
}

func TestRequireBinary(t *testing.T) {
	t.Setenv("CI", "")
	r := run(t, func(tb testing.TB) { RequireBinary(tb, "", ErrNoBinary) })
	if !r.skipped {
		t.Errorf("no binary outside CI: skipped %v failed %v; want a skip", r.skipped, r.failed)
	}
	r = run(t, func(tb testing.TB) { RequireBinary(tb, "", errors.New("build vipagent: exit status 1")) })
	if !r.failed {
		t.Errorf("a failed build: skipped %v failed %v; want a failure, also outside CI", r.skipped, r.failed)
	}
}

// RequireRoot lets root through and stops anyone else, saying who ran it.
func TestRequireRoot(t *testing.T) {
	t.Setenv("CI", "")
	r := run(t, func(tb testing.TB) { RequireRoot(tb, "to mount a tmpfs") })
	if os.Geteuid() == 0 {
		if r.skipped || r.failed {
			t.Fatalf("as root: skipped %v failed %v (%q); want it to go on", r.skipped, r.failed, r.msg)
		}
		return
	}
	if !r.skipped || !strings.Contains(r.msg, "root to mount a tmpfs") || !strings.Contains(r.msg, "uid") {
		t.Fatalf("as uid %d: skipped %v (%q); want a skip naming root, why and the uid", os.Geteuid(), r.skipped, r.msg)
	}
}
