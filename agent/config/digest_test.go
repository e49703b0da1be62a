package config

import (
	"strings"
	"testing"
)

// The digest is the same for the same file wherever it is loaded (secrets
// by reference, the data directory and listen address aside), and differs
// for any other setting.
func TestDigest(t *testing.T) {
	base := `
node: rm1
listen: 127.0.0.1:8470
data_dir: /var/lib/vipagent
nodes:
  rm1: {member_id: 1, host: rm1, rm_application: RM_1}
  rm2: {member_id: 2, host: rm2, rm_application: RM_2}
vips:
  rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake}
  b-vip: {address: 192.0.2.101/24, interface: eth0, backend: fake}
auth:
  tokens: [{name: a, token: "env:VIPAGENT_T", role: admin}]
`
	digest := func(y string, env map[string]string) string {
		t.Helper()
		c, err := Parse([]byte(y))
		if err != nil {
			t.Fatal(err)
		}
		c.Validate(func(k string) string { return env[k] })
		return Digest(c)
	}
	d := digest(base, nil)
	if len(d) != 64 || strings.Trim(d, "0123456789abcdef") != "" {
		t.Fatalf("digest %q is not hex SHA-256", d)
	}
	for i := 0; i < 20; i++ { // map order must not matter
		if got := digest(base, nil); got != d {
			t.Fatalf("digest changed between loads: %s, %s", d, got)
		}
	}
	same := map[string]string{
		"another environment": "",
		"data_dir":            strings.Replace(base, "/var/lib/vipagent", "/srv/x", 1),
		"listen":              strings.Replace(base, "127.0.0.1:8470", "127.0.0.1:9999", 1),
		"key order":           strings.Replace(base, "{member_id: 1, host: rm1,", "{host: rm1, member_id: 1,", 1),
	}
	for name, y := range same {
		env := map[string]string{}
		if y == "" {
			y, env = base, map[string]string{"VIPAGENT_T": "a-token-value-0123456789"}
		}
		if got := digest(y, env); got != d {
			t.Errorf("%s changed the digest", name)
		}
	}
	for name, y := range map[string]string{
		"node":          strings.Replace(base, "node: rm1", "node: rm2", 1),
		"backend":       strings.Replace(base, "eth0, backend: fake}\n  b-vip", "eth0, backend: script}\n  b-vip", 1),
		"address":       strings.Replace(base, "192.0.2.100", "192.0.2.102", 1),
		"secret ref":    strings.Replace(base, "env:VIPAGENT_T", "env:VIPAGENT_U", 1),
		"a default set": base + "step_timeout: 31s\n",
	} {
		if got := digest(y, nil); got == d {
			t.Errorf("%s did not change the digest", name)
		}
	}
}
