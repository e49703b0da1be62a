package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Any name Windows gives or lets people give a connection passes for the
// Windows backends; only what Windows itself refuses is refused.
func TestWindowsConnectionNames(t *testing.T) {
	valid := []string{
		"Ethernet 2",
		"Connexion au réseau local 2",
		"Подключение по локальной сети",
		"Local Area Connection* 12",
		"Local Area Connection (2)",
		"NIC #2 (Team A&B)",
		"vEthernet (Default Switch)",
		"LAN-Verbindung 100% #3 [Kühlschrank] !",
		"本地连接 2",
		strings.Repeat("é", maxConnectionName),
	}
	invalid := map[string]string{
		"LAN:1":                           "is not a Windows connection name",
		`LAN\1`:                           "is not a Windows connection name",
		"LAN/1":                           "is not a Windows connection name",
		`"LAN"`:                           "is not a Windows connection name",
		"LAN?":                            "is not a Windows connection name",
		"LAN|x":                           "is not a Windows connection name",
		"LAN<1>":                          "is not a Windows connection name",
		"Ethernet 2 ":                     "has characters that are not allowed",
		" Ethernet 2":                     "has characters that are not allowed",
		"Ethernet\n2":                     "has characters that are not allowed",
		"Ethernet\t2":                     "has characters that are not allowed",
		"Ethernet\x002":                   "has characters that are not allowed",
		"Ethernet\u00852":                 "has characters that are not allowed",
		strings.Repeat("é", 257):          "has characters that are not allowed",
		strings.Repeat("\U0001F600", 129): "has characters that are not allowed",
	}
	for _, backend := range []string{"netsh", "nlb"} {
		for _, name := range valid {
			if got := validateInterface(t, backend, name); got != "" {
				t.Errorf("%s: %q refused: %s", backend, name, got)
			}
		}
		for name, want := range invalid {
			if got := validateInterface(t, backend, name); !strings.Contains(got, want) {
				t.Errorf("%s: %q: got %q, want a problem containing %q", backend, name, got, want)
			}
		}
	}
	// A script gets letters of any script, never cmd.exe's metacharacters.
	for name, ok := range map[string]bool{"Connexion au réseau local 2": true, "Local Area Connection* 12": true, "eth0": true, "NIC #2 (Team A&B)": false, "LAN 100%": false, "LAN ^1": false} {
		if got := validateInterface(t, "script", name); (got == "") != ok {
			t.Errorf("script: %q: got problem %q, want accepted=%v", name, got, ok)
		}
	}
	// Linux keeps the kernel's rules.
	if got := validateInterface(t, "netlink", "Connexion au réseau local 2"); got == "" {
		t.Errorf("netlink accepted a Windows connection name")
	}
}

// validateInterface returns the problem Validate reports for the VIP's
// interface, or "".
func validateInterface(t *testing.T, backend, name string) string {
	t.Helper()
	y := fmt.Sprintf("node: rm1\nnodes: {rm1: {}}\nvips: {v: {address: 192.0.2.1/24, backend: %s, interface: %q}}\n", backend, name)
	c, err := Parse([]byte(y))
	if err != nil {
		t.Fatalf("parse %q: %v", y, err)
	}
	err = c.Validate(func(string) string { return "" })
	if err == nil {
		return ""
	}
	for _, l := range strings.Split(err.Error(), "\n") {
		if strings.Contains(l, "vips.v.interface") {
			return l
		}
	}
	return ""
}

func TestWindowsWarnings(t *testing.T) {
	tests := []struct {
		name, vips, url string
		want            []string
	}{
		{name: "netsh timeout unset", vips: "{address: 192.0.2.100/24, backend: netsh, interface: Ethernet 2}", url: "http://198.51.100.2:8470"},
		{name: "netsh timeout of 60s", vips: "{address: 192.0.2.100/24, backend: netsh, interface: Ethernet 2, timeout: 60s}", url: "http://198.51.100.2:8470"},
		{name: "netsh timeout of 30s", vips: "{address: 192.0.2.100/24, backend: netsh, interface: Ethernet 2, timeout: 30s}", url: "http://198.51.100.2:8470",
			want: []string{"vips.v.timeout: 30s is less than the 45s netsh can take to change an address: the step would be killed mid-change; leave it unset (90s) or set 60s or more"}},
		{name: "nlb, peer on the private NIC", vips: "{address: 192.0.2.100/24, backend: nlb}", url: "http://198.51.100.2:8470"},
		{name: "nlb, peer by name", vips: "{address: 192.0.2.100/24, backend: nlb}", url: "https://rm2.example.com:8470"},
		{name: "nlb, peer on the NLB adapter", vips: "{address: 192.0.2.100/24, backend: nlb}", url: "http://192.0.2.12:8470",
			want: []string{"nodes.rm2.url: 192.0.2.12 is in the subnet of the NLB adapter (vips.v.address 192.0.2.100/24): in unicast mode the NLB adapters cannot reach each other, so use the address of the other NIC, the one RM's member.N uses"}},
		{name: "nlb, IPv6 peer on the NLB adapter", vips: "{address: 2001:db8::100/64, backend: nlb}", url: "http://[2001:db8::12]:8470",
			want: []string{"nodes.rm2.url: 2001:db8::12 is in the subnet of the NLB adapter (vips.v.address 2001:db8::100/64): in unicast mode the NLB adapters cannot reach each other, so use the address of the other NIC, the one RM's member.N uses"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := fmt.Sprintf("node: rm1\nnodes: {rm1: {member_id: 1}, rm2: {member_id: 2, url: %q}}\nvips: {v: %s}\n", tt.url, tt.vips)
			c, err := Parse([]byte(y))
			if err != nil {
				t.Fatalf("parse %q: %v", y, err)
			}
			if err := c.Validate(func(string) string { return "" }); err != nil {
				t.Fatalf("validate %q: %v", y, err)
			}
			if diff := cmp.Diff(tt.want, c.windowsWarnings()); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}
