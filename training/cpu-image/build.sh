#!/usr/bin/env bash
# Builds the CPU training image with no registry: Debian trixie (torch 2.6, Python 3.13) by debootstrap,
# then `docker import`. The tag is a hash of this recipe, so the image is rebuilt only when the recipe changes.
# Prints the tag on its last line. Usage: training/cpu-image/build.sh [--print-tag]
# The Debian mirror comes from DEBIAN_MIRROR, else from this machine's apt sources.
# TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1: since torch 2.5 the workers share the c10d rendezvous store with torchrun's
# agent, and keys left by a failed attempt break the next one (gloo "connectFullMesh failed", pytorch#135712), so
# torchrun --max-restarts could never restart workers. With it, each attempt's rank 0 hosts a fresh store.
case "${1:-}" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repository="${DDPSIM_CPU_IMAGE_REPOSITORY:-ddpsim-cpu}"
packages="python3-torch,python3-numpy,python3-matplotlib,iproute2,procps"
# The Debian mirror: DEBIAN_MIRROR, else the one this machine's apt uses (its sources, deb822 or one-line form).
apt_mirror() {
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | sed 's/^URIs:[[:space:]]*//' | tr ' ' '\n'
    grep -hE '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | sed -E 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//; s/[[:space:]].*//'
  } | grep -E '^https?://' | grep -v -- '-security' | grep -iE '/(debian|debian-archive)/?$' | head -1 || true
}
mirror="${DEBIAN_MIRROR:-$(apt_mirror)}"

recipe_hash="$( (cat "$here/build.sh" "$here/torch_no_libuv.py"; echo "$packages") | sha256sum | cut -c1-12)"
tag="$repository:$recipe_hash"
if [ "${1:-}" = "--print-tag" ]; then echo "$tag"; exit 0; fi

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "reusing $tag" >&2
  docker tag "$tag" "$repository:latest"
  echo "$tag"; exit 0
fi

command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 1; }
[ -n "$mirror" ] || { echo "no Debian mirror found in /etc/apt/sources.list(.d): set DEBIAN_MIRROR=<mirror URL>" >&2; exit 1; }
rootfs="$(mktemp -d "${TMPDIR:-/tmp}/ddpsim-rootfs.XXXXXX")"
trap 'rm -rf "$rootfs"' EXIT
echo "building $tag (debootstrap trixie, a few minutes)" >&2
debootstrap --variant=minbase --include="$packages" trixie "$rootfs" "$mirror" >&2

site="$rootfs/usr/local/lib/python3.13/dist-packages"
mkdir -p "$site" "$rootfs/workspace" "$rootfs/checkpoints" "$rootfs/data" "$rootfs/code" "$rootfs/home/ddp"
# A non-root default user, uid/gid 1000, owning the folders a node writes: a fresh named volume mounted at
# /workspace or /checkpoints takes this ownership, so training needs no privilege.
echo "ddp:x:1000:1000:ddpsim node:/home/ddp:/bin/sh" >> "$rootfs/etc/passwd"
echo "ddp:x:1000:" >> "$rootfs/etc/group"
echo "ddp:!:20000::::::" >> "$rootfs/etc/shadow"
chown 1000:1000 "$rootfs/workspace" "$rootfs/checkpoints" "$rootfs/home/ddp"
cp "$here/torch_no_libuv.py" "$site/ddpsim_torch_no_libuv.py"
echo "import ddpsim_torch_no_libuv" > "$site/ddpsim-torch-no-libuv.pth"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar -C "$rootfs" -c . | docker import \
  --change 'WORKDIR /workspace' \
  --change 'USER 1000:1000' \
  --change 'ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 MPLBACKEND=Agg TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1' \
  --change 'CMD ["python3"]' \
  - "$tag" >&2
docker tag "$tag" "$repository:latest"
echo "$tag"
