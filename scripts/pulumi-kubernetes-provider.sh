#!/usr/bin/env bash
# Builds, with the Go toolchain and from Go modules only, the Pulumi Kubernetes provider plugin that @pulumi/kubernetes
# needs (normally downloaded, which cannot happen here), and prints the folder that holds it on its last line:
#   PATH="$(bash scripts/pulumi-kubernetes-provider.sh):$PATH"
# github.com/pulumi/pulumi-kubernetes/provider/v4 is served only at a pseudo-version ($DDPSIM_K8S_PROVIDER_VERSION);
# its go.mod replaces github.com/pulumi/pulumi-kubernetes/sdk/v4 with ../sdk, so a served sdk/v4 module
# ($DDPSIM_K8S_PROVIDER_SDK) is laid beside it: v4.22.2, because the v4.24.0 it names is not served and later ones
# (v4.29.0 and up) ask for a newer github.com/pulumi/pulumi/sdk/v3 than its pkg/v3 v3.215.0 compiles with. Its schema is embedded at build time (the repository's go:generate
# step, run here with the version of node_modules/@pulumi/kubernetes, which the plugin then reports).
# Idempotent and cached by version under ${DDPSIM_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ddpsim-pulumi},
# beside the Pulumi toolchain but with its own key and lock; the build log is there too.
case "${1:-}" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache_root="${DDPSIM_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ddpsim-pulumi}"
provider_module="github.com/pulumi/pulumi-kubernetes/provider/v4"
provider_version="${DDPSIM_K8S_PROVIDER_VERSION:-v4.0.0-20260115033456-f47bc2d6f199}"
sdk_module="github.com/pulumi/pulumi-kubernetes/sdk/v4"
sdk_version="${DDPSIM_K8S_PROVIDER_SDK:-v4.22.2}"

say() { echo "pulumi-kubernetes-provider: $*" >&2; }
die() { say "error: $*"; exit 1; }

command -v go >/dev/null || die "no Go toolchain on PATH (it builds the provider)"
package_json="$repo/node_modules/@pulumi/kubernetes/package.json"
[ -f "$package_json" ] || die "$package_json is missing: run npm ci first"
version="$(sed -n 's/^[[:space:]]*"version": "\([^"]*\)".*/\1/p' "$package_json" | head -n 1)"
[ -n "$version" ] || die "no version in $package_json"

src_hash="$(sha256sum "$0" | cut -c1-12)"
dir="$cache_root/kubernetes-${version}_provider-${provider_version##*-}_sdk-${sdk_version}_src-${src_hash}"
bin="$dir/bin"
log="$dir/build.log"
mkdir -p "$bin"
exec 9>"$dir/lock"
flock 9 # one build at a time for this key; a second caller waits, then finds the stamp
# shellcheck source=lib/go-build.sh
source "$repo/scripts/lib/go-build.sh" # fail, timed, copy_module

if [ ! -f "$bin/.ok-kubernetes" ]; then
  say "building pulumi-resource-kubernetes $version from $provider_module@$provider_version (log: $log)"
  scratch="$dir/src"
  mkdir -p "$scratch"
  copy_module "$provider_module@$provider_version" "$scratch/provider" || fail "cannot download $provider_module@$provider_version"
  copy_module "$sdk_module@$sdk_version" "$scratch/sdk" || fail "cannot download $sdk_module@$sdk_version"
  # The sdk laid beside it may ask for newer modules than the provider's go.mod lists.
  timed "module graph (go mod tidy)" go mod tidy -C "$scratch/provider"
  timed "embedded schema (go:generate)" env VERSION="$version" go run -C "$scratch/provider/cmd/pulumi-resource-kubernetes" generate.go
  timed "pulumi-resource-kubernetes" env CGO_ENABLED=0 go build -C "$scratch/provider" -trimpath \
    -ldflags "-s -w -X $provider_module/pkg/version.Version=$version" -o "$bin/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
  echo "$version" >"$bin/.ok-kubernetes"
  rm -rf "$scratch"
fi

say "ready: pulumi-resource-kubernetes $(cat "$bin/.ok-kubernetes")"
echo "$bin"
