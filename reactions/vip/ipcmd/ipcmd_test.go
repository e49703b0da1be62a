package ipcmd

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions/vip"
)

func TestNewOptions(t *testing.T) {
	spec := vip.Spec{Name: "rm", Prefix: netip.MustParsePrefix("192.0.2.100/24"), Interface: "vip0"}
	tests := []struct {
		name    string
		spec    vip.Spec
		raw     map[string]any
		want    Backend
		wantErr []string
	}{
		{
			name: "defaults",
			spec: spec,
			want: Backend{spec: spec, addr: spec.Prefix.Addr(), ipPath: "ip", arpingPath: "arping", garpCount: 3, probe: true, probeSecs: 1},
		},
		{
			name: "all set",
			spec: spec,
			raw:  map[string]any{"ip_path": "/sbin/ip", "arping_path": "/usr/bin/arping", "garp_count": 0, "probe": false, "probe_timeout": "1500ms"},
			want: Backend{spec: spec, addr: spec.Prefix.Addr(), ipPath: "/sbin/ip", arpingPath: "/usr/bin/arping", garpCount: 0, probe: false, probeSecs: 2},
		},
		{name: "unknown key", spec: spec, raw: map[string]any{"arping": "x"}, wantErr: []string{"arping"}},
		{
			name:    "every bad value reported",
			spec:    vip.Spec{Name: "rm", Interface: "vip0; reboot"},
			raw:     map[string]any{"garp_count": 99, "probe_timeout": "0s"},
			wantErr: []string{"address: not an IP prefix", `interface: "vip0; reboot"`, "garp_count", "probe_timeout"},
		},
		{name: "interface read as an option", spec: vip.Spec{Prefix: spec.Prefix, Interface: "-all"}, wantErr: []string{"interface"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(tt.spec, tt.raw)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("New: no error, want one mentioning %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if diff := cmp.Diff(tt.want, *got, cmp.AllowUnexported(Backend{}), cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
				cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("backend (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAddrs(t *testing.T) {
	out := `2: vip0    inet 192.0.2.11/24 scope global vip0\       valid_lft forever preferred_lft forever
2: vip0    inet 192.0.2.100/24 scope global secondary vip0\       valid_lft forever preferred_lft forever
2: vip0    inet6 2001:db8::100/64 scope global tentative dadfailed \       valid_lft forever preferred_lft forever
2: vip0    inet6 fe80::c0ff:fe00:211/64 scope link tentative \       valid_lft forever preferred_lft forever
`
	want := []ifaceAddr{
		{prefix: "192.0.2.11/24"},
		{prefix: "192.0.2.100/24"},
		{prefix: "2001:db8::100/64", tentative: true, dadfailed: true},
		{prefix: "fe80::c0ff:fe00:211/64", tentative: true},
	}
	if diff := cmp.Diff(want, parseAddrs(out), cmp.AllowUnexported(ifaceAddr{})); diff != "" {
		t.Errorf("parseAddrs (-want +got):\n%s", diff)
	}
}
