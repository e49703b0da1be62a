#!/usr/bin/env bash
# siege.sh runs vipagent's siege lab (TestSiege in agent/): nesting bombs,
# slow signed bodies, unread large responses, junk-token floods, connection
# floods and unique-key floods into a small tmpfs journal, all at once
# against the real binary, while a legitimate client runs `vipagent fire`
# and `vipagent failover` every second. It ends with
#   siege: A attack requests, L legitimate, F legitimate failed, p99 P legitimate ms, peak RSS R MiB
# and exits non-zero when F > 0, P > 1000 or R > 256.
#
#   scripts/siege.sh [--seconds N]    (default 20)
#
# Linux only (/proc for RSS); the tmpfs needs root (without it the journal
# goes to a plain directory; under CI=true that fails). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=20
while [[ $# -gt 0 ]]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	*) echo "usage: $0 [--seconds N]" >&2; exit 2 ;;
	esac
done
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "$0: --seconds takes a positive number" >&2; exit 2; }

exec go test -count=1 -v -timeout "$((seconds + 300))s" -run '^TestSiege$' ./agent \
	-args -siege.seconds="$seconds"
