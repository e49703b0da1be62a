#!/usr/bin/env bash
# Alarm storm against one agent on the fake backend: 10,000 alarms from 50
# concurrent clients, a third of them repeats. Prints accepted alarms/s,
# p50/p99 acceptance latency, the agent's peak RSS, and fails unless every
# distinct event executed exactly once.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench '^BenchmarkAlarmStorm$' -benchtime "${1:-1}x" ./agent
