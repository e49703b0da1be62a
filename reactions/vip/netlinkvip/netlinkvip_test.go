package netlinkvip

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/vipagent/vipagent/reactions/vip"
)

func TestMain(m *testing.M) {
	// Announcements run in goroutines that Close must stop.
	goleak.VerifyTestMain(m)
}

func TestParseOptions(t *testing.T) {
	spec := vip.Spec{Name: "rm", Prefix: netip.MustParsePrefix("192.0.2.100/24"), Interface: "vip0"}
	tests := []struct {
		name    string
		spec    vip.Spec
		raw     map[string]any
		want    settings
		wantErr []string
	}{
		{name: "defaults", spec: spec, want: settings{garpCount: 3, garpInterval: 200 * time.Millisecond, probeTimeout: 100 * time.Millisecond, releasedProbeTimeout: time.Millisecond}},
		{
			name: "all set",
			spec: spec,
			raw:  map[string]any{"garp_count": 0, "garp_interval": "1s", "probe_timeout": "20ms"},
			want: settings{garpCount: 0, garpInterval: time.Second, probeTimeout: 20 * time.Millisecond, releasedProbeTimeout: time.Millisecond},
		},
		{name: "unknown key", spec: spec, raw: map[string]any{"garp_cont": 2}, wantErr: []string{"garp_cont"}},
		{
			name:    "every bad value reported",
			spec:    vip.Spec{Name: "rm"},
			raw:     map[string]any{"garp_count": -1, "garp_interval": "soon", "probe_timeout": "-1s"},
			wantErr: []string{"address: not an IP prefix", "interface: required", "garp_count", "garp_interval", "probe_timeout"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseOptions(tt.spec, tt.raw)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("parseOptions: no error, want one mentioning %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("parseOptions: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(settings{})); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}
