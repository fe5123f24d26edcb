#!/usr/bin/env bash
# The end-to-end suites: every stack through the real Pulumi CLI and Node.js language host (`pulumi up` of the
# program on disk), on the local Docker engine with the CPU image. Builds (or reuses, cached) the toolchain with
# scripts/pulumi-toolchain.sh and the CPU image with training/cpu-image/build.sh first, then runs mocha on
# tests/e2e. `--no-build` skips `npm run build` (npm test has built already); other arguments go to mocha
# (e.g. a single file: bash tests/e2e/run.sh tests/e2e/cluster.test.ts).
case "${1:-}" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = "--no-build" ]; then shift; else npm run build --silent; fi
start="$(date +%s)"
# Every checkout, state backend and Pulumi home the suites make lives under one folder, removed at the end.
TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/ddpsim-e2e.XXXXXX")"
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
bin="$(bash scripts/pulumi-toolchain.sh)"
PATH="$bin:$PATH"
export PATH
bash training/cpu-image/build.sh >/dev/null
echo "e2e: toolchain and CPU image ready after $(($(date +%s) - start))s" >&2
files=("$@")
[ ${#files[@]} -gt 0 ] || files=('tests/e2e/**/*.test.ts')
npx mocha "${files[@]}"
echo "e2e suites: $(($(date +%s) - start))s" >&2
