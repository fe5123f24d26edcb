#!/usr/bin/env bash
# The real-engine suite: builds (or reuses, cached) the Pulumi CLI and providers with scripts/pulumi-toolchain.sh,
# puts them on PATH as ambient plugins, and runs tests/real with mocha. Needs Node 22+, Go, Docker and the CPU image
# (the suite builds that image itself when it is missing).
case "${1:-}" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="$(bash scripts/pulumi-toolchain.sh)"
PATH="$bin:$PATH"
export PATH
start="$(date +%s)"
npx mocha 'tests/real/**/*.test.ts'
echo "real-engine suite: $(($(date +%s) - start))s" >&2
