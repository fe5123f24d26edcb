#!/usr/bin/env bash
# The Kubernetes suite, on a real one-node cluster: builds (or finds cached) the Pulumi CLI with the Node.js language
# host (scripts/pulumi-toolchain.sh), the Kubernetes provider (scripts/pulumi-kubernetes-provider.sh) and the cluster's
# binaries, brings the cluster up (scripts/kubernetes-cluster.sh), runs tests/kubernetes with mocha, and takes the
# cluster down again, also when a test fails. Needs root, Node 22+, Go, Docker and the CPU image.
#   bash tests/kubernetes/run.sh [mocha arguments, e.g. --grep destroy]
case "${1:-}" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/../.."
toolchain="$(bash scripts/pulumi-toolchain.sh | tail -n 1)"
provider="$(bash scripts/pulumi-kubernetes-provider.sh | tail -n 1)"
PATH="$toolchain:$provider:$PATH"
export PATH
started="$(date +%s)"
trap 'bash scripts/kubernetes-cluster.sh down' EXIT
# The suite imports its own image (the CPU image with the code at /code), so up imports none.
KUBECONFIG="$(DDPSIM_KUBERNETES_IMAGES="" bash scripts/kubernetes-cluster.sh up | tail -n 1)"
export KUBECONFIG
echo "kubernetes suite: cluster up after $(($(date +%s) - started))s" >&2
tests_started="$(date +%s)"
npx mocha --timeout 900000 "$@" 'tests/kubernetes/**/*.test.ts'
echo "kubernetes suite: tests took $(($(date +%s) - tests_started))s" >&2
