#!/usr/bin/env bash
# Writes a folder as a one-layer image in Docker's archive format (what `docker save` writes and
# `ctr images import` reads), without a Docker engine:
#   image-archive.sh ROOTFS ENTRYPOINT NAME:TAG OUT.tar
set -euo pipefail
[ "$#" -eq 4 ] || { echo "usage: image-archive.sh ROOTFS ENTRYPOINT NAME:TAG OUT.tar" >&2; exit 2; }
rootfs="$1" entrypoint="$2" name="$3" out="$4"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$rootfs" -cf "$work/layer.tar" .
layer_sha="$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
mkdir "$work/$layer_sha"
mv "$work/layer.tar" "$work/$layer_sha/layer.tar"
printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["%s"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$entrypoint" "$layer_sha" >"$work/config.json"
config_sha="$(sha256sum "$work/config.json" | cut -d' ' -f1)"
mv "$work/config.json" "$work/$config_sha.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$config_sha" "$name" "$layer_sha" >"$work/manifest.json"
tar --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$work" -cf "$out" manifest.json "$config_sha.json" "$layer_sha"
