#!/usr/bin/env bash
# Short fuzz runs of every fuzz target (scripts/fuzz-targets.sh), for CI and
# for people: bash scripts/fuzz.sh [scale]
#
# Each target gets a budget in executions, not seconds. Go 1.26's fuzz
# coordinator can report a bare "context deadline exceeded" when a duration
# budget (-fuzztime 10s) runs out while a worker is mid-input
# (go.dev/issue/75804, fixed in Go 1.27): a failure with no crasher behind
# it. A count budget (-fuzztime Nx) has no deadline to race. The budgets
# below are about ten seconds each on the 2-core CI machine; scale multiplies
# them (bash scripts/fuzz.sh 10 for a longer local run). -timeout bounds
# each target in wall-clock time all the same.
#
# A real finding is written by Go to the package's testdata/fuzz/<Target>/
# and this script names the file, so it can be replayed with
# go test -run '<Target>/<file>' <package>.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-1}

budget() {
  case "$1" in
    FuzzOpenDamaged) echo 2000 ;;      # a bbolt file per input: ~200/s
    FuzzDecodeAlarm) echo 12000 ;;
    FuzzConfigCheck) echo 15000 ;;
    FuzzDecode) echo 20000 ;;
    FuzzParse) echo 50000 ;;
    FuzzSplitGenesysArgs) echo 80000 ;;
    FuzzVerify) echo 250000 ;;
    FuzzDoorsShape) echo 3000 ;;       # the whole handler and journal per input: ~300/s
    FuzzDecodeShape) echo 30000 ;;
    *) echo 5000 ;;                    # a new target: a modest default
  esac
}

failed=0
for target in $(bash scripts/fuzz-targets.sh); do
  pkg=${target%%:*}; name=${target##*:}
  n=$(( $(budget "$name") * scale ))
  echo "-- $name ($pkg): ${n} executions"
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "${n}x" -timeout 5m "$pkg"; then
    failed=1
    found=$(git ls-files --others --exclude-standard -- "$pkg/testdata/fuzz/$name" || true)
    if [ -n "$found" ]; then
      echo "fuzz: $name found a failing input: $found"
    else
      echo "fuzz: $name failed without writing a failing input (see its output above)"
    fi
  fi
done
exit "$failed"
