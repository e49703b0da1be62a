#!/usr/bin/env bash
# Lists the fuzz targets as package:FuzzName, for CI and for people.
set -euo pipefail
cd "$(dirname "$0")/.."
git grep -n '^func Fuzz' -- '*_test.go' | sed -E 's#^(.*)/[^/]+_test\.go:[0-9]+:func (Fuzz[A-Za-z0-9_]+).*#./\1:\2#' | sort -u
