package version

import (
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRead(t *testing.T) {
	vcs := func(main string, settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Version: main}, Settings: settings}, true
		}
	}
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "0123456789abcdef0123"}
	at := debug.BuildSetting{Key: "vcs.time", Value: "2026-12-07T03:00:00Z"}
	dirty := debug.BuildSetting{Key: "vcs.modified", Value: "true"}
	for _, tc := range []struct {
		name string
		set  string
		bi   func() (*debug.BuildInfo, bool)
		want Info
	}{
		{"ldflags wins", "v1.2.3", vcs("(devel)", rev), Info{Version: "v1.2.3", Commit: rev.Value, Go: "go1.26"}},
		{"module version", "", vcs("v1.4.0", rev), Info{Version: "v1.4.0", Commit: rev.Value, Go: "go1.26"}},
		{"checkout", "", vcs("(devel)", rev, at, dirty), Info{Version: "devel-0123456789ab-2026-12-07T03:00:00Z+dirty", Commit: rev.Value, Time: at.Value, Modified: true, Go: "go1.26"}},
		{"nothing known", "", func() (*debug.BuildInfo, bool) { return nil, false }, Info{Version: "devel"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, read(tc.set, tc.bi)); diff != "" {
				t.Errorf("read (-want +got):\n%s", diff)
			}
		})
	}
}
