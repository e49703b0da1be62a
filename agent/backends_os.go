package agent

import (
	"fmt"

	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/ipcmd"
	"github.com/vipagent/vipagent/reactions/vip/netlinkvip"
	"github.com/vipagent/vipagent/reactions/vip/netsh"
	"github.com/vipagent/vipagent/reactions/vip/nlb"
	"github.com/vipagent/vipagent/reactions/vip/script"
)

// newOSBackend builds the real backends; each package returns
// errors.ErrUnsupported on systems it does not run on.
func newOSBackend(kind string, spec vip.Spec, opts map[string]any) (engine.Backend, error) {
	switch kind {
	case "netsh":
		return netsh.New(spec, opts)
	case "nlb":
		return nlb.New(spec, opts)
	case "script":
		return script.New(spec, opts)
	case "netlink":
		return netlinkvip.New(spec, opts)
	case "ip":
		return ipcmd.New(spec, opts)
	}
	return nil, fmt.Errorf("backend %q is not available in this build", kind)
}
