#!/usr/bin/env bash
# Builds, with the Go toolchain and from Go modules only, the pieces of the one-node cluster that Debian does not
# package, and prints the folder that holds them on its last line:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubelet  k8s.io/kubernetes at $DDPSIM_KUBERNETES_VERSION
#                           (v1.37.2) through a wrapper module whose replaces point the 33 staging modules (k8s.io/api,
#                           k8s.io/client-go, ...) at their published v0.x.y versions; no cgo;
#   coredns                 github.com/coredns/coredns at $DDPSIM_COREDNS_VERSION (v1.15.0), run on the host with its
#                           kubernetes plugin (no image can be pulled here);
#   pause.tar               the pod sandbox image: the module's build/pause/linux/pause.c compiled with gcc -static,
#                           written as a Docker image archive for `ctr images import`.
# Idempotent and cached by version under ${DDPSIM_KUBERNETES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ddpsim-kubernetes};
# the build log is there too. A cold build takes tens of minutes on 2 cores; a warm run returns at once.
case "${1:-}" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache_root="${DDPSIM_KUBERNETES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ddpsim-kubernetes}"
k8s_version="${DDPSIM_KUBERNETES_VERSION:-v1.37.2}"
coredns_version="${DDPSIM_COREDNS_VERSION:-v1.15.0}"
staging_version="v0.${k8s_version#v1.}" # k8s.io/kubernetes v1.37.2 publishes its staging modules as v0.37.2

say() { echo "kubernetes-build: $*" >&2; }
die() { say "error: $*"; exit 1; }

command -v go >/dev/null || die "no Go toolchain on PATH (it builds the Kubernetes binaries)"
command -v gcc >/dev/null || die "no gcc on PATH (it compiles the pause image)"
go_minor="$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
[ -n "$go_minor" ] && [ "$go_minor" -ge 26 ] || die "Go 1.26 or later is needed for Kubernetes $k8s_version, found $(go env GOVERSION)"

src_hash="$(cat "$0" "$here/image-archive.sh" "$here/pause-image" | sha256sum | cut -c1-12)"
dir="$cache_root/kubernetes-${k8s_version}_coredns-${coredns_version}_src-${src_hash}"
bin="$dir/bin"
log="$dir/build.log"
mkdir -p "$bin"
exec 9>"$dir/lock"
flock 9 # one build at a time for this key; a second caller waits, then finds the stamps
# shellcheck source=../lib/go-build.sh
source "$here/../lib/go-build.sh" # fail, timed, module_dir

scratch="$dir/src"
commands=(kube-apiserver kube-controller-manager kube-scheduler kubelet)

# ---- Kubernetes --------------------------------------------------------------------------------------------------
if [ ! -f "$bin/.ok-kubernetes" ]; then
  say "building Kubernetes $k8s_version: ${commands[*]} (log: $log)"
  k8s_dir="$(module_dir "k8s.io/kubernetes@$k8s_version")"
  [ -n "$k8s_dir" ] || fail "cannot download k8s.io/kubernetes@$k8s_version"
  rm -rf "$scratch/wrapper"
  mkdir -p "$scratch/wrapper"
  {
    echo "module ddpsim.local/kubernetes-wrapper"
    echo
    echo "go $(sed -n 's/^go //p' "$k8s_dir/go.mod")"
    echo
    echo "require k8s.io/kubernetes $k8s_version"
    echo
    # k8s.io/kubernetes replaces each staging module with a folder of its own repository; outside it they are the
    # published modules of the same release.
    sed -n 's|^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*$|replace \1 => \1 '"$staging_version"'|p' "$k8s_dir/go.mod"
  } >"$scratch/wrapper/go.mod"
  grep -q '^replace k8s.io/api ' "$scratch/wrapper/go.mod" || fail "no staging replaces found in k8s.io/kubernetes@$k8s_version's go.mod"
  {
    echo "//go:build tools"
    echo
    echo "package tools"
    echo
    echo "import ("
    for c in "${commands[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$c\""; done
    echo ")"
  } >"$scratch/wrapper/tools.go"
  timed "module graph (go mod tidy)" go mod tidy -C "$scratch/wrapper"
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version -X k8s.io/component-base/version.gitMajor=1"
  ldflags="$ldflags -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$k8s_version") -X k8s.io/component-base/version.gitTreeState=clean"
  for c in "${commands[@]}"; do
    timed "$c" env CGO_ENABLED=0 go build -C "$scratch/wrapper" -trimpath -ldflags "$ldflags" -o "$bin/$c" "k8s.io/kubernetes/cmd/$c"
  done
  echo "$k8s_version" >"$bin/.ok-kubernetes"
fi

# ---- the pause image -----------------------------------------------------------------------------------------------
if [ ! -f "$bin/.ok-pause" ]; then
  k8s_dir="$(module_dir "k8s.io/kubernetes@$k8s_version")"
  [ -n "$k8s_dir" ] || fail "cannot download k8s.io/kubernetes@$k8s_version"
  rm -rf "$scratch/pause"
  mkdir -p "$scratch/pause/rootfs"
  timed "pause" gcc -Os -static -o "$scratch/pause/rootfs/pause" "$k8s_dir/build/pause/linux/pause.c"
  bash "$here/image-archive.sh" "$scratch/pause/rootfs" /pause "$(cat "$here/pause-image")" "$bin/pause.tar" >>"$log" 2>&1 ||
    fail "cannot write the pause image archive"
  touch "$bin/.ok-pause"
fi

# ---- CoreDNS --------------------------------------------------------------------------------------------------------
if [ ! -f "$bin/.ok-coredns" ]; then
  say "building CoreDNS $coredns_version (log: $log)"
  timed "coredns" env CGO_ENABLED=0 GOBIN="$bin" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$coredns_version"
  echo "$coredns_version" >"$bin/.ok-coredns"
fi

rm -rf "$scratch"
say "ready: Kubernetes $(cat "$bin/.ok-kubernetes"), CoreDNS $(cat "$bin/.ok-coredns"), pause image $(cat "$here/pause-image")"
echo "$bin"
