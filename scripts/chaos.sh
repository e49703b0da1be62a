#!/usr/bin/env bash
# chaos.sh runs vipagent's fault lab (agent/chaos): seeded random schedules
# of alarms, failovers, manual enables, replays and faults against two real
# agents in the network-namespace lab, each checked by invariants. It ends
# with "chaos: N schedules, F faults, V invariant violations" and an outage
# table, and exits non-zero on any violation.
#
#   scripts/chaos.sh [--schedules N] [--seed S] [--duration D] [--timeout T] [--verbose]
#                    [--backend netlink|nlb|netsh] [--winscale F]
#
#   --schedules  number of schedules (default 3); schedule i uses seed S+i
#   --seed       seed of the first schedule (default: from the clock)
#   --duration   operations and faults per schedule, a Go duration (default 20s)
#   --timeout    go test's -timeout (default: 10m plus 2m per schedule)
#   --verbose    print every schedule and both journals, not only failing ones
#   --backend    the VIP's backend (default netlink); nlb and netsh run the
#                Windows backends against the Windows host model
#                (reactions/vip/viptest/winhost: fake nlb and netsh sharing
#                one model of both hosts)
#   --winscale   the model's clock as a factor of Windows' (default 0.01:
#                netsh's 45 s become 450 ms)
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
while [[ $# -gt 0 ]]; do
	case $1 in
	--schedules) schedules=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--verbose) verbose=true; shift ;;
	--backend) backend=$2; shift 2 ;;
	--winscale) winscale=$2; shift 2 ;;
	*) echo "usage: $0 [--schedules N] [--seed S] [--duration D] [--timeout T] [--verbose] [--backend netlink|nlb|netsh] [--winscale F]" >&2; exit 2 ;;
	esac
done
[[ $schedules =~ ^[0-9]+$ && $seed =~ ^[0-9]+$ ]] || { echo "$0: --schedules and --seed take numbers" >&2; exit 2; }
[[ $backend =~ ^(netlink|nlb|netsh)$ ]] || { echo "$0: --backend takes netlink, nlb or netsh" >&2; exit 2; }
timeout=${timeout:-$((10 + 2 * schedules))m}

exec go test -count=1 -v -timeout "$timeout" -run '^TestChaos$' ./agent/chaos \
	-args -chaos.schedules="$schedules" -chaos.seed="$seed" -chaos.duration="$duration" -chaos.verbose="$verbose" \
	-chaos.backend="$backend" -chaos.winscale="$winscale"
