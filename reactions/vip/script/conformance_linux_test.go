package script

import (
	"net/netip"
	"testing"

	"github.com/vipagent/vipagent/reactions/engine"
	"github.com/vipagent/vipagent/reactions/vip"
	"github.com/vipagent/vipagent/reactions/vip/viptest"
	"github.com/vipagent/vipagent/reactions/vip/viptest/conformance"
)

// vipScript is a site's own takeover script, as the script backend runs
// it: `vip.sh enable|disable|status <address/len> <interface>`, driving ip
// and iputils' arping. Like IPTakeOver.bat it decides for itself whether
// another host holds the address: arping's probe for IPv4, the kernel's
// duplicate address detection for IPv6.
const vipScript = `#!/bin/bash
set -u
verb=$1 addr=$2 dev=$3 ip=${2%/*}
held() {
	ip -o addr show dev "$dev" | grep -v dadfailed | awk '{print $4}' |
		while read -r p; do [ "${p%/*}" = "$ip" ] && echo "$p"; done
}
case "$verb" in
status)
	h=$(held)
	if [ -n "$h" ]; then echo "$ip held on $dev as" $h; exit 0; fi
	echo "$ip not held on $dev"; exit 1 ;;
disable)
	for p in $(held); do ip addr del "$p" dev "$dev" || exit 1; done ;;
enable)
	[ -z "$(held)" ] || exit 0
	case "$(ip -o link show dev "$dev")" in
	*[\<,]UP[,\>]*) ;;
	*) echo "$dev is down"; exit 2 ;;
	esac
	case "$ip" in
	*:*)
		ip addr add "$addr" dev "$dev" || exit 1
		for _ in $(seq 100); do
			line=$(ip -o addr show dev "$dev" | grep " $addr ")
			case "$line" in
			*dadfailed*) ip addr del "$addr" dev "$dev"; echo "$ip: another host answers (duplicate address detection)"; exit 1 ;;
			*tentative*) sleep 0.05 ;;
			*) exit 0 ;;
			esac
		done
		ip addr del "$addr" dev "$dev"; echo "$ip: still tentative"; exit 1 ;;
	*)
		arping -q -D -c 1 -w 1 -I "$dev" "$ip"
		case $? in
		0) ;;
		1) echo "$ip: another host answers"; exit 1 ;;
		*) exit 2 ;;
		esac
		ip addr add "$addr" dev "$dev" || exit 1
		arping -q -U -c 1 -I "$dev" "$ip" ;;
	esac ;;
*)
	echo "usage: vip.sh enable|disable|status address/len interface"; exit 2 ;;
esac
`

// TestConformance runs the backends' common table in a namespace lab, for
// both address families, with a script that drives ip and arping.
func TestConformance(t *testing.T) {
	for _, p := range []netip.Prefix{viptest.VIP4, viptest.VIP6} {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			viptest.RequireProgram(t, "arping", "iputils-arping")
			dir := t.TempDir()
			viptest.Write(t, dir, "vip.sh", vipScript)
			h := conformance.NewLabHarness(t, p, func(t *testing.T, lab *viptest.Lab, node viptest.Node, spec vip.Spec) engine.Backend {
				b, err := New(spec, map[string]any{
					"dir":     dir,
					"enable":  []any{"vip.sh", "enable", "${address}", "${interface}"},
					"disable": []any{"vip.sh", "disable", "${address}", "${interface}"},
					"observe": []any{"vip.sh", "status", "${address}", "${interface}"},
				})
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return conformance.InNamespace(lab.Namespace(t, node.Name), b)
			})
			refused := conformance.Want{Err: conformance.ErrAny, Present: false, Elsewhere: true}
			conformance.Run(t, h, conformance.Differences{Deviate: map[string]conformance.Deviation{
				"other-prefix/enable": {
					Want: conformance.Want{Present: true, Here: []conformance.Held{conformance.HandMade}},
					Why:  "this script, like Genesys' IPTakeOver.bat, takes the address held at any prefix length as already enabled",
				},
				"elsewhere/enable": {
					Want: refused,
					Why:  "a script's refusal is an exit code: the backend cannot tell it from any other failure, so it never wraps ErrDuplicateAddress and the engine retries it",
				},
				"elsewhere/enable-force": {
					Want: refused,
					Why:  "force is not passed to scripts: the script probes every time",
				},
			}})
			conformance.RunSequences(t, h, 1, 1, 8)
		})
	}
}
