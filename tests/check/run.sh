#!/usr/bin/env bash
# The `ddpsim check` suite: the check of six tutorial-style scripts and elastic training's shrink, every stack through
# the real Pulumi CLI and Node.js language host on the local Docker engine with the CPU image. Builds (or reuses,
# cached) the toolchain with scripts/pulumi-toolchain.sh and the CPU image with training/cpu-image/build.sh first,
# then runs mocha on tests/check. `--no-build` skips `npm run build`; other arguments go to mocha (a single file:
# bash tests/check/run.sh tests/check/elastic.test.ts).
case "${1:-}" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = "--no-build" ]; then shift; else npm run build --silent; fi
start="$(date +%s)"
# shellcheck source=../support/realSuite.sh
source tests/support/realSuite.sh
real_suite_ready check
files=("$@")
[ ${#files[@]} -gt 0 ] || files=('tests/check/**/*.test.ts')
npx mocha "${files[@]}"
echo "check suite: $(($(date +%s) - start))s" >&2
