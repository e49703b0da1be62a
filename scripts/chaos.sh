#!/usr/bin/env bash
# chaos.sh runs vipagent's fault lab (agent/chaos): seeded random schedules
# of alarms, failovers, manual enables, replays and faults against two real
# agents in the network-namespace lab, each checked by invariants. It ends
# with "chaos: N schedules, F faults, V invariant violations" and an outage
# table, and exits non-zero on any violation.
#
#   scripts/chaos.sh [--schedules N] [--seed S] [--duration D] [--family F] [--timeout T] [--verbose]
#                    [--backend netlink|nlb|netsh] [--winscale F] [--wine]
#
#   --schedules  number of schedules (default 3); schedule i uses seed S+i
#   --seed       seed of the first schedule (default: from the clock)
#   --duration   operations and faults per schedule, a Go duration (default 20s)
#   --family     mixed (default: every operation and fault) or wake (wake after
#                freeze with queued requests from both doors)
#   --timeout    go test's -timeout (default: 10m plus 2m per schedule)
#   --verbose    print every schedule and both journals, not only failing ones
#   --backend    the VIP's backend (default netlink); nlb and netsh run the
#                Windows backends against the Windows host model
#                (reactions/vip/viptest/winhost: fake nlb and netsh sharing
#                one model of both hosts)
#   --winscale   the model's clock as a factor of Windows' (default 0.01:
#                netsh's 45 s become 450 ms)
#   --wine       with --backend nlb|netsh: the agents and every command
#                (fire, vip enable, replay, failover) run as vipagent.exe
#                under Wine (needs wine, wine64 and
#                x86_64-w64-mingw32-gcc, as scripts/test-windows.sh does)
#
# Replay one schedule with: bash scripts/chaos.sh --schedules 1 --seed S
# Requires root, iproute2 and nftables; without root it skips (fails with
# CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."

schedules=3
seed=0
duration=20s
timeout=
verbose=false
backend=netlink
winscale=0.01
wine=false
family=mixed
while [[ $# -gt 0 ]]; do
	case $1 in
	--schedules) schedules=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--family) family=$2; shift 2 ;;
	--verbose) verbose=true; shift ;;
	--backend) backend=$2; shift 2 ;;
	--winscale) winscale=$2; shift 2 ;;
	--wine) wine=true; shift ;;
	*) echo "usage: $0 [--schedules N] [--seed S] [--duration D] [--family mixed|wake] [--timeout T] [--verbose] [--backend netlink|nlb|netsh] [--winscale F] [--wine]" >&2; exit 2 ;;
	esac
done
[[ $schedules =~ ^[0-9]+$ && $seed =~ ^[0-9]+$ ]] || { echo "$0: --schedules and --seed take numbers" >&2; exit 2; }
[[ $backend =~ ^(netlink|nlb|netsh)$ ]] || { echo "$0: --backend takes netlink, nlb or netsh" >&2; exit 2; }
[[ $family == mixed || $family == wake ]] || { echo "$0: --family is mixed or wake" >&2; exit 2; }
timeout=${timeout:-$((10 + 2 * schedules))m}
winedir=
if $wine; then
	[[ $backend != netlink ]] || { echo "$0: --wine needs --backend nlb or netsh" >&2; exit 2; }
	for p in wine wineboot wineserver x86_64-w64-mingw32-gcc; do
		command -v "$p" >/dev/null || { echo "$0: --wine needs $p (apt-get install wine wine64 gcc-mingw-w64-x86-64)" >&2; exit 2; }
	done
	# The Wine prefix and build of scripts/test-windows.sh: ProcessPrng
	# from scripts/wine/processprng.c, Go's os.RemoveAll fallback overlay.
	winedir="$(mktemp -d /tmp/vipagent-chaos-wine.XXXXXX)"
	export WINEPREFIX="$winedir/prefix" WINEARCH=win64 WINEDEBUG=-all
	export WINEDLLOVERRIDES="bcryptprimitives=n;mscoree=;mshtml="
	unset DISPLAY WAYLAND_DISPLAY
	wineboot -i >/dev/null 2>&1
	wineserver -w
	x86_64-w64-mingw32-gcc -shared -O2 -Wall -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" scripts/wine/processprng.c -ladvapi32
	# Wine creates sockets in its wineserver, so each node and the client
	# get a prefix of their own, whose server starts in that namespace (the
	# lab kills it after each schedule). Hard links keep the copies cheap.
	for ns in rm1 rm2 client; do cp -al "$WINEPREFIX" "$winedir/prefix-$ns"; done
	trap 'for p in prefix prefix-rm1 prefix-rm2 prefix-client; do WINEPREFIX="$winedir/$p" wineserver -k >/dev/null 2>&1 || true; done; rm -rf "$winedir"' EXIT
	at="$(go env GOROOT)/src/internal/syscall/windows/at_windows.go"
	case_line='case STATUS_INVALID_INFO_CLASS, '
	overlay=()
	if ! grep -q 'NTStatus(0xC0000002)\|STATUS_NOT_IMPLEMENTED' "$at" && grep -q "$case_line" "$at"; then
		sed "s/$case_line/${case_line}NTStatus(0xC0000002), /" "$at" >"$winedir/at_windows.go"
		printf '{"Replace":{"%s":"%s"}}\n' "$at" "$winedir/at_windows.go" >"$winedir/overlay.json"
		overlay=(-overlay "$winedir/overlay.json")
	fi
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build "${overlay[@]}" -o "$winedir/vipagent.exe" ./agent/cmd/vipagent
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -o "$winedir/winfake.exe" ./reactions/vip/viptest/winhost/cmd/winfake
fi

go test -count=1 -v -timeout "$timeout" -run '^TestChaos$' ./agent/chaos \
	-args -chaos.schedules="$schedules" -chaos.seed="$seed" -chaos.duration="$duration" -chaos.verbose="$verbose" \
	-chaos.backend="$backend" -chaos.winscale="$winscale" -chaos.wine="$winedir" -chaos.family="$family"
