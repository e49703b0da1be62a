package agent

import (
	"fmt"

	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/vip"
)

// newOSBackend builds the real backends; each package returns
// errors.ErrUnsupported on systems it does not run on.
func newOSBackend(kind string, spec vip.Spec, opts map[string]any) (engine.Backend, error) {
	switch kind {
	}
	return nil, fmt.Errorf("backend %q is not available in this build", kind)
}
