#!/usr/bin/env bash
# VIP failover as a client sees it: builds the network-namespace lab
# (scripts/lab.sh, through the Go benchmark), then moves 192.0.2.100/24 from
# rm1 to rm2 N times with each of four methods, interleaved:
#   vipagent   two `vipagent serve` (netlink backend), one alarm to rm2's agent
#   IPaddr2    ClusterLabs' IPaddr2 stop in rm1, start in rm2 (resource-agents)
#   ip+arping  ip addr del in rm1, ip addr add + arping -U in rm2
#   keepalived VRRP on both (rm1 master at priority 150, rm2 at 100, advert_int
#              1 s); keepalived stopped on rm1, rm2 takes over
# and prints median, p95 and max outage per method and the ratio
# vipagent/IPaddr2. A client in its own namespace probes the VIP every
# millisecond. Timing never fails the run; a move that did not happen does.
# The lab and the agents are removed whether the run passes or not.
#
#   scripts/bench-failover.sh [--trials N] [--netlink-options YAML]
#
# --netlink-options is a YAML flow mapping used as the VIP's backend options
# on both agents, e.g. '{probe_timeout: 1ms}'. Needs root, iproute2,
# iputils-arping, resource-agents and keepalived.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	echo "usage: $0 [--trials N] [--netlink-options YAML]" >&2
	exit 2
}

trials=20
options=""
while [[ $# -gt 0 ]]; do
	case $1 in
	--trials)
		[[ $# -ge 2 && $2 =~ ^[1-9][0-9]{0,3}$ ]] || usage
		trials=$2
		shift 2
		;;
	--netlink-options)
		[[ $# -ge 2 ]] || usage
		options=$2
		shift 2
		;;
	*) usage ;;
	esac
done

# Each trial takes about 2 s per method (arping -U waits a second, the lab
# settles after every move back), keepalived about 7 s (3 s to become master
# at start, 1 s to stop); leave room for the build.
VIPAGENT_BENCH_TRIALS=$trials VIPAGENT_BENCH_NETLINK_OPTIONS=$options \
	exec go test -run '^$' -bench '^BenchmarkFailover$' -benchtime 1x \
	-timeout "$((120 + trials * 25))s" ./agent
