#!/usr/bin/env bash
# Brings a stack up with embedded defaults: state in ./.pulumi inside the project (no Pulumi Cloud login) and an
# empty secrets passphrase. Every default can be overridden from the environment.
#   STACK=dev  PULUMI_BACKEND_URL=file://...  PULUMI_CONFIG_PASSPHRASE=...  scripts/up.sh [pulumi up flags]
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${STACK:-dev}"
mkdir -p .pulumi
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi}"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
command -v pulumi >/dev/null || { echo "the Pulumi CLI is missing: https://www.pulumi.com/docs/install/" >&2; exit 1; }
[ -d node_modules ] || npm ci --no-audit --no-fund
pulumi stack select --create "$stack"
case "${1:-up}" in
  destroy) shift; pulumi destroy "$@" ;;
  up) [ $# -gt 0 ] && shift; pulumi up "$@" ;;
  *) pulumi up "$@" ;;
esac
