#!/usr/bin/env bash
# chaos.sh runs vipagent's fault lab (agent/chaos): seeded random schedules
# of alarms, failovers, manual enables, replays and faults against two real
# agents in the network-namespace lab, each checked by invariants. It ends
# with "chaos: N schedules, F faults, V invariant violations" and an outage
# table, and exits non-zero on any violation.
#
#   scripts/chaos.sh [--schedules N] [--seed S] [--duration D] [--family F] [--timeout T] [--verbose]
#
#   --schedules  number of schedules (default 3); schedule i uses seed S+i
#   --seed       seed of the first schedule (default: from the clock)
#   --duration   operations and faults per schedule, a Go duration (default 20s)
#   --family     mixed (default: every operation and fault) or wake (wake after
#                freeze with queued requests from both doors)
#   --timeout    go test's -timeout (default: 10m plus 2m per schedule)
#   --verbose    print every schedule and both journals, not only failing ones
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
family=mixed
while [[ $# -gt 0 ]]; do
	case $1 in
	--schedules) schedules=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--family) family=$2; shift 2 ;;
	--verbose) verbose=true; shift ;;
	*) echo "usage: $0 [--schedules N] [--seed S] [--duration D] [--family mixed|wake] [--timeout T] [--verbose]" >&2; exit 2 ;;
	esac
done
[[ $schedules =~ ^[0-9]+$ && $seed =~ ^[0-9]+$ ]] || { echo "$0: --schedules and --seed take numbers" >&2; exit 2; }
[[ $family == mixed || $family == wake ]] || { echo "$0: --family is mixed or wake" >&2; exit 2; }
timeout=${timeout:-$((10 + 2 * schedules))m}

exec go test -count=1 -v -timeout "$timeout" -run '^TestChaos$' ./agent/chaos \
	-args -chaos.schedules="$schedules" -chaos.seed="$seed" -chaos.duration="$duration" -chaos.verbose="$verbose" -chaos.family="$family"
