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
# shellcheck source=../support/realSuite.sh
source tests/support/realSuite.sh
real_suite_ready e2e
if [ $# -gt 0 ]; then
  npx mocha "$@"
else
  npx mocha --parallel --jobs "${DDPSIM_E2E_JOBS:-2}" 'tests/e2e/**/*.test.ts'
fi
echo "e2e suites: $(($(date +%s) - start))s" >&2
