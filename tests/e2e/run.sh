#!/usr/bin/env bash
# The end-to-end suites: every stack through the real Pulumi CLI and Node.js language host (`pulumi up` of the
# program on disk), on the local Docker engine with the CPU image. Builds (or reuses, cached) the toolchain with
# scripts/pulumi-toolchain.sh and the CPU image with training/cpu-image/build.sh first, then runs mocha on
# tests/e2e, two files at a time (DDPSIM_E2E_JOBS; most of a file's time is spent waiting on containers).
# `--no-build` skips `npm run build` (npm test has built already); other arguments are files for mocha, run one after
# the other (e.g. bash tests/e2e/run.sh tests/e2e/cluster.test.ts).
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
if [ $# -gt 0 ]; then
  npx mocha "$@"
else
  npx mocha --parallel --jobs "${DDPSIM_E2E_JOBS:-2}" 'tests/e2e/**/*.test.ts'
fi
echo "e2e suites: $(($(date +%s) - start))s" >&2
