// Package version is vipagent's one version, used by `vipagent version`,
// the vipagent_build_info metric, the logs and the User-Agent of the
// agent's outbound calls.
//
// A release build sets it with
//
//	go build -ldflags "-X github.com/vipagent/vipagent/agent/version.Version=v1.2.3" ./agent/cmd/vipagent
//
// Without that, it comes from the build's VCS information (the commit, its
// time, and "+dirty" for uncommitted changes), which `go build` records in
// a git checkout; else from the module version (`go install ...@v1.2.3`).
package version

import (
	"runtime/debug"
	"sync"
)

// Version is set with -ldflags -X (see the package comment); empty means
// "from the build information".
var Version string

// Info is what the build says about itself.
type Info struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Time     string `json:"commit_time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
}

var (
	once sync.Once
	info Info
)

// Get is the build's Info.
func Get() Info {
	once.Do(func() { info = read(Version, debug.ReadBuildInfo) })
	return info
}

// String is the version alone.
func String() string { return Get().Version }

// UserAgent is the User-Agent header of the agent's outbound HTTP calls.
func UserAgent() string { return "vipagent/" + String() }

func read(set string, buildInfo func() (*debug.BuildInfo, bool)) Info {
	in := Info{Version: set}
	bi, ok := buildInfo()
	if ok {
		in.Go = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Commit = s.Value
			case "vcs.time":
				in.Time = s.Value
			case "vcs.modified":
				in.Modified = s.Value == "true"
			}
		}
	}
	if in.Version != "" {
		return in
	}
	switch {
	case ok && bi.Main.Version != "" && bi.Main.Version != "(devel)":
		in.Version = bi.Main.Version
	case in.Commit != "":
		in.Version = "devel-" + short(in.Commit)
		if in.Time != "" {
			in.Version += "-" + in.Time
		}
		if in.Modified {
			in.Version += "+dirty"
		}
	default:
		// A test binary or a build outside a checkout.
		in.Version = "devel"
	}
	return in
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
