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
# An image imported before (the same Docker image id) is there already: the cluster keeps its images until down.
id="$(docker image inspect -f '{{.Id}}' "$image")"
marker="$state/images/$(echo "$image" | tr '/:' '__')-${id#sha256:}"
if [ -f "$marker" ]; then
  say "$image is in the cluster already"
  exit 0
fi
started="$(now_ms)"
docker save "$image" | ctr_k8s images import - >"$state/logs/import.log" 2>&1 ||
  die "containerd could not import $image; see $state/logs/import.log"
mkdir -p "$state/images"
touch "$marker"
say "imported $image in $(since "$started")"
