package agent

import (
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/config"
)

// A netsh VIP without a timeout of its own gets one that covers the 45 s
// netsh can take, whatever step_timeout says; a timeout set is kept.
func TestVIPTimeout(t *testing.T) {
	cfg := config.Defaults() // step_timeout 30s
	tests := []struct {
		vip  config.VIP
		step time.Duration
		want time.Duration
	}{
		{config.VIP{Backend: "netsh"}, 30 * time.Second, 90 * time.Second},
		{config.VIP{Backend: "netsh"}, 2 * time.Minute, 2 * time.Minute},
		{config.VIP{Backend: "netsh", Timeout: config.Duration(20 * time.Second)}, 30 * time.Second, 20 * time.Second},
		{config.VIP{Backend: "nlb"}, 30 * time.Second, 30 * time.Second},
		{config.VIP{Backend: "fake", Timeout: config.Duration(5 * time.Second)}, 30 * time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		cfg.StepTimeout = config.Duration(tt.step)
		if got := vipTimeout(&cfg, tt.vip); got != tt.want {
			t.Errorf("vipTimeout(%s, timeout %s, step_timeout %s) = %s, want %s", tt.vip.Backend, tt.vip.Timeout.D(), tt.step, got, tt.want)
		}
	}
}
