#!/usr/bin/env bash
# Brings a stack up (or destroys it) with the project's defaults: state in ./.pulumi (Pulumi.yaml's backend.url; no
# Pulumi Cloud login) and the empty secrets passphrase the committed stack files are salted for. Every default can
# be overridden from the environment; pulumi flags after the verb are passed on.
#   STACK=cpu npm run up [-- pulumi up flags]         STACK=cpu npm run destroy [-- pulumi destroy flags]
#   PULUMI_BACKEND_URL=s3://...  PULUMI_CONFIG_PASSPHRASE=...  (a passphrase of your own: see docs/ci.md)
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac; done
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${STACK:-dev}"
mkdir -p .pulumi
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
command -v pulumi >/dev/null || {
  echo "the Pulumi CLI is missing: https://www.pulumi.com/docs/install/ (or, with Go, PATH=\"\$(bash scripts/pulumi-toolchain.sh):\$PATH\")" >&2
  exit 1
}
[ -d node_modules ] || npm ci --no-audit --no-fund
pulumi stack select --create --secrets-provider passphrase "$stack"
verb="${1:-up}"
[ $# -gt 0 ] && shift
case "$verb" in
  destroy) pulumi destroy "$@" ;;
  up) pulumi up "$@" ;;
  *) echo "scripts/up.sh: unknown verb $verb (up or destroy)" >&2; exit 2 ;;
esac
