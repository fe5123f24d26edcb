#!/usr/bin/env bash
# Imports an image of the Docker engine into the cluster's containerd, where pods find it (imagePullPolicy
# IfNotPresent or Never; no registry is needed):  kubernetes-cluster.sh load IMAGE
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common.sh"
[ "$#" -eq 1 ] || die "usage: kubernetes-cluster.sh load IMAGE (an image of the Docker engine)"
image="$1"
pid_alive containerd || die "the cluster's containerd is not running; run: kubernetes-cluster.sh up"
docker image inspect "$image" >/dev/null 2>&1 || die "image $image is not in the Docker engine (build it first; for the CPU image: bash training/cpu-image/build.sh)"
started="$(now_ms)"
docker save "$image" | ctr_k8s images import - >"$state/logs/import.log" 2>&1 ||
  die "containerd could not import $image; see $state/logs/import.log"
say "imported $image in $(since "$started")"
