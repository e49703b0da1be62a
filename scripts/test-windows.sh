#!/usr/bin/env bash
# Runs every package's Windows test binary under Wine and prints
#
#   windows: P packages, T passed, F failed, S skipped
#
# exiting non-zero on any failure. It installs nothing: it needs Debian's
# wine, wine64 and gcc-mingw-w64-x86-64 (.ci/run installs them) and Go.
#
#   bash scripts/test-windows.sh                  # every package
#   bash scripts/test-windows.sh ./reactions/...  # some packages
#
# What it sets up, once per run, in a temporary directory it removes:
#   - a Wine prefix (WINEPREFIX, `wineboot -i`) kept up by one persistent
#     wineserver, WINEDEBUG=-all;
#   - bcryptprimitives.dll from scripts/wine/processprng.c in the prefix's
#     system32, where Go's runtime looks for it (see that file for why);
#   - a build overlay for the standard library's internal/syscall/windows:
#     os.RemoveAll deletes with FileDispositionInformationEx, which Wine 8
#     answers STATUS_NOT_IMPLEMENTED; Go falls back to the classic
#     delete-on-close (what it does on volumes without POSIX delete, such as
#     FAT) only for other statuses, so without the overlay every t.TempDir
#     cleanup fails with "unlinkat ...: Invalid function". The overlay adds
#     that one status to the fallback. It is for binaries run under Wine
#     only; what we ship is built from the unmodified standard library;
#   - vipagent.exe, built the same way, whose Windows path is passed to the
#     tests as VIPAGENT_EXE (no `go` is available to a test under Wine).
#
# Each test binary runs with -test.v in its package directory, bounded by
# WINDOWS_TEST_TIMEOUT seconds (default 600: the agent package takes about 300
# on an idle 2-core machine) per package. The output of a
# failed package is printed; WINDOWS_TEST_VERBOSE=1 prints every package's.
# WINDOWS_TEST_ARGS adds test flags, e.g. "-test.run TestX -test.count 5".
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
pkg_timeout="${WINDOWS_TEST_TIMEOUT:-600}"
if [ "$#" -eq 0 ]; then set -- ./...; fi

missing=""
command -v go >/dev/null || missing="$missing go (Go toolchain);"
command -v wine >/dev/null && command -v wineboot >/dev/null && command -v wineserver >/dev/null &&
	{ command -v wine64 >/dev/null || [ -x /usr/lib/wine/wine64 ]; } ||
	missing="$missing wine and wine64 (apt-get install wine wine64);"
command -v x86_64-w64-mingw32-gcc >/dev/null || missing="$missing x86_64-w64-mingw32-gcc (apt-get install gcc-mingw-w64-x86-64);"
if [ -n "$missing" ]; then
	echo "test-windows: missing:$missing install them first (.ci/run does)" >&2
	exit 2
fi

work="$(mktemp -d /tmp/vipagent-wine.XXXXXX)"
export WINEPREFIX="$work/prefix" WINEARCH=win64 WINEDEBUG=-all
# The shim, and no Mono or Gecko installer prompts during wineboot.
export WINEDLLOVERRIDES="bcryptprimitives=n;mscoree=;mshtml="
unset DISPLAY WAYLAND_DISPLAY
cleanup() {
	wineserver -k >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
start=$SECONDS

echo "== wine prefix ($(wine --version 2>/dev/null))"
wineboot -i >/dev/null 2>&1
wineserver -w
wineserver -p >/dev/null 2>&1 # stays up between test binaries
system32="$WINEPREFIX/drive_c/windows/system32"
x86_64-w64-mingw32-gcc -shared -O2 -Wall -o "$system32/bcryptprimitives.dll" scripts/wine/processprng.c -ladvapi32

goroot="$(go env GOROOT)"
at="$goroot/src/internal/syscall/windows/at_windows.go"
case_line='case STATUS_INVALID_INFO_CLASS, '
overlay=()
if grep -q 'NTStatus(0xC0000002)\|STATUS_NOT_IMPLEMENTED' "$at"; then
	: # this Go already falls back for Wine's answer
elif grep -q "$case_line" "$at"; then
	mkdir -p "$work/overlay"
	sed "s/$case_line/${case_line}NTStatus(0xC0000002) \/* STATUS_NOT_IMPLEMENTED: Wine 8 *\/, /" "$at" >"$work/overlay/at_windows.go"
	printf '{"Replace":{"%s":"%s"}}\n' "$at" "$work/overlay/at_windows.go" >"$work/overlay.json"
	overlay=(-overlay "$work/overlay.json")
else
	echo "test-windows: $at no longer has the fallback this script extends; look at Deleteat again" >&2
	exit 2
fi

echo "== build (GOOS=windows CGO_ENABLED=0)"
export GOOS=windows GOARCH=amd64 CGO_ENABLED=0
go build "${overlay[@]}" -o "$work/vipagent.exe" ./agent/cmd/vipagent
VIPAGENT_EXE="$(winepath -w "$work/vipagent.exe" 2>/dev/null)"
export VIPAGENT_EXE
pkgs=()
while read -r path dir; do
	[ -n "$path" ] || continue
	name="${path//\//_}"
	go test "${overlay[@]}" -c -o "$work/bin/$name.test.exe" "$path"
	pkgs+=("$path|$dir|$work/bin/$name.test.exe")
done < <(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' "$@")
unset GOOS GOARCH CGO_ENABLED
echo "built ${#pkgs[@]} test binaries in $((SECONDS - start))s"

echo "== run under wine (timeout ${pkg_timeout}s per package)"
passed=0 failed=0 skipped=0 failed_pkgs=() retried=()
# run_pkg runs one test binary; it sets rc, np, nf, ns and status.
run_pkg() {
	rc=0
	(cd "$dir" && timeout -k 10 "$pkg_timeout" wine "$bin" -test.v -test.timeout "$((pkg_timeout - 10))s" ${WINDOWS_TEST_ARGS:-} >"$log" 2>&1) || rc=$?
	np=$(grep -cE '^ *--- PASS: ' "$log" || true)
	nf=$(grep -cE '^ *--- FAIL: ' "$log" || true)
	ns=$(grep -cE '^ *--- SKIP: ' "$log" || true)
	status=ok
	if [ "$rc" -ne 0 ] || [ "$nf" -ne 0 ] || ! grep -qx PASS "$log"; then
		status=FAIL
		# A crash or a timeout fails the package without a test line.
		[ "$nf" -gt 0 ] || nf=1
		[ "$rc" -ne 124 ] || echo "    timed out after ${pkg_timeout}s" >>"$log"
		echo "---- $path (exit $rc)"
		grep -vE '^(=== (RUN|PAUSE|CONT|NAME)|    --- PASS|--- PASS|    --- SKIP|--- SKIP)' "$log" | tail -n 200
	fi
}
for p in "${pkgs[@]}"; do
	IFS='|' read -r path dir bin <<<"$p"
	log="$work/$(basename "$bin" .test.exe).log"
	t0=$SECONDS
	run_pkg
	if [ "$status" = FAIL ]; then
		# Wine 8's CreateProcess fails now and then ("fork/exec ...:
		# Internal error."): a failing package runs once more, and fails
		# only if it fails again. Retries are listed at the end.
		echo "---- $path: running it once more"
		retried+=("$path")
		run_pkg
	fi
	passed=$((passed + np)) skipped=$((skipped + ns))
	[ "$status" = ok ] || failed_pkgs+=("$path")
	if [ "$status" = ok ] && [ -n "${WINDOWS_TEST_VERBOSE:-}" ]; then
		echo "---- $path"
		cat "$log"
	fi
	[ "$status" = FAIL ] || nf=0
	failed=$((failed + nf))
	printf '%-4s %-55s %3d passed %3d failed %3d skipped %4ds\n' "$status" "$path" "$np" "$nf" "$ns" "$((SECONDS - t0))"
done

echo "windows: ${#pkgs[@]} packages, $passed passed, $failed failed, $skipped skipped"
echo "windows: took $((SECONDS - start))s"
[ "${#retried[@]}" -eq 0 ] || echo "windows: ran again after a failure: ${retried[*]}"
if [ "${#failed_pkgs[@]}" -gt 0 ]; then
	echo "windows: failed: ${failed_pkgs[*]}"
	exit 1
fi
