//go:build !unix

package forensic

import "testing"

// runUnprivileged: Unix permission bits are what the callers test; other
// systems skip those cases before.
func runUnprivileged(t *testing.T) bool { return false }
