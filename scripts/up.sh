#!/usr/bin/env bash
# Brings a stack up, destroys it, or previews it, with the project's defaults: state in ./.pulumi (Pulumi.yaml's
# backend.url; no Pulumi Cloud login) and the empty secrets passphrase the committed stack files are salted for. Every
# default can be overridden from the environment; pulumi flags after the verb are passed on.
#   STACK=cpu npm run up [-- pulumi up flags]         STACK=cpu npm run destroy [-- pulumi destroy flags]
#   STACK=dev npm run preview [-- pulumi preview flags]
#   PULUMI_BACKEND_URL=s3://...  PULUMI_CONFIG_PASSPHRASE=...  (a passphrase of your own: see docs/ci.md)
# `preview` is `pulumi preview --diff` made for a machine that is not the cluster's Docker host (a pull request's CI
# runner): DDPSIM_PORTABLE_PREVIEW=1 keeps host paths and local image ids out of the diff and makes a missing nvidia
# runtime a warning (docs/ci.md).
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac; done
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${STACK:-dev}"
mkdir -p .pulumi
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
if ! command -v pulumi >/dev/null; then
  # No Pulumi CLI installed: the one scripts/pulumi-toolchain.sh builds from Go modules (cached after the first time).
  command -v go >/dev/null || {
    echo "the Pulumi CLI is missing: https://www.pulumi.com/docs/install/ (or install Go 1.25+ and run bash scripts/quickstart.sh)" >&2
    exit 1
  }
  PATH="$(bash scripts/pulumi-toolchain.sh):$PATH"
  export PATH
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
pulumi stack select --create --secrets-provider passphrase "$stack"
verb="${1:-up}"
[ $# -gt 0 ] && shift
case "$verb" in
  destroy) pulumi destroy "$@" ;;
  up) pulumi up "$@" ;;
  preview) DDPSIM_PORTABLE_PREVIEW=1 pulumi preview --diff "$@" ;;
  *) echo "scripts/up.sh: unknown verb $verb (up, destroy or preview)" >&2; exit 2 ;;
esac
