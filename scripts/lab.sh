#!/usr/bin/env bash
# lab.sh builds the vipagent test lab: three network namespaces (rm1, rm2,
# client) whose interface vip0 is plugged into a bridge that lives in a
# fourth namespace, so the root namespace is never touched.
#
#   scripts/lab.sh up     [PREFIX]   build (idempotent)
#   scripts/lab.sh down   [PREFIX]   remove (idempotent)
#   scripts/lab.sh status [PREFIX]   show namespaces, addresses, neighbours
#
# PREFIX (default "vlab-") is put in front of every namespace name, so that
# parallel or aborted runs never collide: vlab-rm1, vlab-rm2, vlab-client,
# vlab-br. Addresses (documentation ranges only):
#
#   rm1     192.0.2.11/24  2001:db8::11/64  02:00:c0:00:02:11
#   rm2     192.0.2.12/24  2001:db8::12/64  02:00:c0:00:02:12
#   client  192.0.2.20/24  2001:db8::20/64  02:00:c0:00:02:20
#
# The VIP the tests move is 192.0.2.100/24 and 2001:db8::100/64.
# Run a command in a node with: ip netns exec vlab-rm1 ip -o addr show dev vip0
# Requires root and iproute2.
set -euo pipefail

readonly IFNAME=vip0
readonly BRIDGE=br0
readonly NODES=(rm1 rm2 client)

usage() {
	echo "usage: $0 up|down|status [PREFIX]" >&2
	exit 2
}

node_addr4() {
	case $1 in
	rm1) echo 192.0.2.11/24 ;;
	rm2) echo 192.0.2.12/24 ;;
	client) echo 192.0.2.20/24 ;;
	esac
}

node_addr6() {
	case $1 in
	rm1) echo 2001:db8::11/64 ;;
	rm2) echo 2001:db8::12/64 ;;
	client) echo 2001:db8::20/64 ;;
	esac
}

node_mac() {
	case $1 in
	rm1) echo 02:00:c0:00:02:11 ;;
	rm2) echo 02:00:c0:00:02:12 ;;
	client) echo 02:00:c0:00:02:20 ;;
	esac
}

ns_exists() { [[ -e /run/netns/$1 ]]; }

ensure_ns() {
	if ! ns_exists "$1"; then
		ip netns add "$1"
	fi
	ip -n "$1" link set lo up
}

up() {
	local prefix=$1 br=${1}br node ns
	ensure_ns "$br"
	if ! ip -n "$br" link show "$BRIDGE" >/dev/null 2>&1; then
		# No STP and no forward delay: ports forward at once. No multicast
		# snooping: IPv6 neighbour discovery to solicited-node groups is
		# flooded to every port without waiting for MLD reports.
		ip -n "$br" link add "$BRIDGE" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
	fi
	ip -n "$br" link set "$BRIDGE" up
	for node in "${NODES[@]}"; do
		ns=$prefix$node
		ensure_ns "$ns"
		if ! ip -n "$ns" link show "$IFNAME" >/dev/null 2>&1; then
			ip -n "$br" link del "$node" >/dev/null 2>&1 || true
			ip -n "$br" link add "$node" type veth peer name "$IFNAME" netns "$ns"
		fi
		ip -n "$br" link set "$node" master "$BRIDGE" up
		ip -n "$ns" link set "$IFNAME" address "$(node_mac "$node")"
		ip -n "$ns" link set "$IFNAME" up
		ip -n "$ns" addr replace "$(node_addr4 "$node")" dev "$IFNAME"
		# Static addresses need no duplicate address detection; the VIP
		# tests still exercise it on vip0.
		ip -n "$ns" addr replace "$(node_addr6 "$node")" dev "$IFNAME" nodad
	done
}

down() {
	local prefix=$1 node
	for node in "${NODES[@]}" br; do
		if ns_exists "$prefix$node"; then
			ip netns del "$prefix$node"
		fi
	done
}

status() {
	local prefix=$1 node ns
	for node in "${NODES[@]}"; do
		ns=$prefix$node
		if ! ns_exists "$ns"; then
			echo "$ns: absent"
			continue
		fi
		echo "$ns:"
		ip -n "$ns" -o addr show dev "$IFNAME" | sed 's/^/  /'
		ip -n "$ns" neigh show dev "$IFNAME" | sed 's/^/  neigh /'
	done
	if ns_exists "${prefix}br"; then
		echo "${prefix}br:"
		ip -n "${prefix}br" -o link show master "$BRIDGE" | sed 's/^/  /'
	else
		echo "${prefix}br: absent"
	fi
}

main() {
	[[ $# -ge 1 && $# -le 2 ]] || usage
	local prefix=${2:-vlab-}
	if [[ ! $prefix =~ ^[A-Za-z0-9_.-]{1,20}$ ]]; then
		echo "$0: prefix must be 1-20 characters of [A-Za-z0-9_.-]" >&2
		exit 2
	fi
	if [[ $(id -u) -ne 0 ]]; then
		echo "$0: must run as root" >&2
		exit 1
	fi
	command -v ip >/dev/null || {
		echo "$0: ip (iproute2) not found" >&2
		exit 1
	}
	case $1 in
	up) up "$prefix" ;;
	down) down "$prefix" ;;
	status) status "$prefix" ;;
	*) usage ;;
	esac
}

main "$@"
