#!/usr/bin/env bash
# Builds, with the Go toolchain and from Go modules only, the Pulumi engine pieces that run ddpsim's program as
# `pulumi up` does, and prints one folder that holds them all on its last line:
#   export PATH="$(bash scripts/pulumi-toolchain.sh):$PATH"
# What it builds (docs/real-engine.md tells why each is built the way it is):
#   pulumi                  the CLI, github.com/pulumi/pulumi/pkg/v3 + sdk/v3 at the version of node_modules/@pulumi/pulumi
#                           (or the nearest lower one the module proxy serves), built inside copies of both modules;
#   pulumi-language-nodejs  the Node.js language host (and pulumi-language-python), from sdk/v3 v3.68.0, the last
#                           version that carries them, through the wrapper module scripts/pulumi-toolchain/langhost;
#   pulumi-language-yaml    the YAML language host, github.com/pulumi/pulumi-yaml (skipped with DDPSIM_TOOLCHAIN_YAML=0);
#   pulumi-gen-python       Python SDKs from a package schema with pkg/v3's code generator (scripts/pulumi-toolchain/sdkgen),
#                           the step the v3.68 Python host cannot do (it lacks the GeneratePackage RPC);
#   pulumi-resource-docker  the Terraform docker provider's Go module + scripts/pulumi-toolchain/dockershim, served
#                           through the Pulumi Terraform bridge with @pulumi/docker's tokens (scripts/pulumi-toolchain/providers);
#   pulumi-resource-random  a stand-in for random:index/randomString:RandomString on the same bridge.
# Idempotent. Each piece is cached by its own version (and recipe) under
# ${DDPSIM_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ddpsim-pulumi}, with its build log beside it, so that a change
# to one piece rebuilds only that one. A cold build takes 7 to 25 minutes on 2 cores (load decides); a warm run
# returns at once.
case "${1:-}" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
here="$repo/scripts/pulumi-toolchain"
cache_root="${DDPSIM_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ddpsim-pulumi}"
tf_docker_module="github.com/kreuzwerker/terraform-provider-docker"
tf_docker_version="${DDPSIM_TF_DOCKER_VERSION:-v0.0.0-20260916201441-96d331c98ff4}"
# Pulumi's fork of the Terraform plugin SDK, at the version pulumi-terraform-bridge v3.120.0 pins.
tf_sdk_fork="github.com/pulumi/terraform-plugin-sdk/v2@v2.0.0-20250923233607-7f1981c8674a"
langhost_sdk_version="$(sed -n 's/^require github.com\/pulumi\/pulumi\/sdk\/v3 \(v[0-9.]*\)$/\1/p' "$here/langhost/go.mod")"
yaml_version="${DDPSIM_PULUMI_YAML_VERSION:-v1.25.0}"

say() { echo "pulumi-toolchain: $*" >&2; }
die() { say "error: $*"; exit 1; }

npm_version() { # version of an installed npm package, from node_modules
  local file="$repo/node_modules/$1/package.json"
  [ -f "$file" ] || die "$file is missing: run npm ci first"
  local v
  v="$(sed -n 's/^[[:space:]]*"version": "\([^"]*\)".*/\1/p' "$file" | head -n 1)"
  [ -n "$v" ] || die "no version in $file"
  echo "$v"
}

hash_of() { # files and folders -> a short hash of their contents
  (for f in "$@"; do
    if [ -d "$f" ]; then (cd "$f" && find . -type f | LC_ALL=C sort | xargs sha256sum); else sha256sum <"$f"; fi
  done) | sha256sum | cut -c1-12
}

command -v go >/dev/null || die "no Go toolchain on PATH (it builds everything here)"
go_minor="$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
[ -n "$go_minor" ] && [ "$go_minor" -ge 25 ] || die "Go 1.25 or later is needed, found $(go env GOVERSION)"

pulumi_wanted="$(npm_version @pulumi/pulumi)"
docker_version="$(npm_version @pulumi/docker)"
random_version="$(npm_version @pulumi/random)"

log=/dev/null
# shellcheck source=lib/go-build.sh
source "$repo/scripts/lib/go-build.sh" # fail, timed, module_dir, copy_module
piece() { # name key builder: runs `builder DIR` once per key (DIR/bin receives the binaries); prints DIR/bin
  local dir="$cache_root/$1-$2"
  mkdir -p "$dir/bin"
  (
    flock 9 # one build at a time per piece; a second caller waits, then finds it built
    if [ ! -f "$dir/.ok" ]; then
      log="$dir/build.log"
      : >"$log"
      rm -rf "$dir/src"
      "$3" "$dir"
      rm -rf "$dir/src"
      touch "$dir/.ok"
    fi
  ) 9>"$dir/lock" || exit 1
  echo "$dir/bin"
}

ldflags_common="-s -w"

build_cli() {
  local dir="$1" version="$pulumi_wanted" served
  if ! go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$version" >/dev/null 2>>"$log"; then
    served="$(go list -m -versions github.com/pulumi/pulumi/pkg/v3 2>>"$log" | tr ' ' '\n' | sed -n 's/^v//p')"
    version="$(printf '%s\n%s\n' "$served" "$pulumi_wanted" | sort -V | awk -v w="$pulumi_wanted" '$0==w{print prev; exit} {prev=$0}')"
    [ -n "$version" ] || fail "the module proxy serves no github.com/pulumi/pulumi/pkg/v3 at or below v$pulumi_wanted"
    say "pkg/v3@v$pulumi_wanted is not served; using v$version"
  fi
  say "building the Pulumi CLI v$version (log: $log)"
  mkdir -p "$dir/src"
  copy_module "github.com/pulumi/pulumi/pkg/v3@v$version" "$dir/src/pkg" || fail "cannot download github.com/pulumi/pulumi/pkg/v3@v$version"
  copy_module "github.com/pulumi/pulumi/sdk/v3@v$version" "$dir/src/sdk" || fail "cannot download github.com/pulumi/pulumi/sdk/v3@v$version"
  timed "pulumi (CLI)" go build -C "$dir/src/pkg" -trimpath \
    -ldflags "$ldflags_common -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
    -o "$dir/bin/pulumi" ./cmd/pulumi
}

build_language_hosts() {
  local dir="$1" lang
  say "building the Node.js and Python language hosts from sdk/v3 $langhost_sdk_version (log: $log)"
  mkdir -p "$dir/src"
  cp "$here/langhost/"* "$dir/src/"
  for lang in nodejs python; do
    timed "pulumi-language-$lang" go build -C "$dir/src" -trimpath \
      -ldflags "$ldflags_common -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$langhost_sdk_version" \
      -o "$dir/bin/pulumi-language-$lang" "github.com/pulumi/pulumi/sdk/v3/$lang/cmd/pulumi-language-$lang"
  done
  # The Python host runs programs through this script, which it looks for beside its own (resolved) executable.
  local sdk
  sdk="$(module_dir "github.com/pulumi/pulumi/sdk/v3@$langhost_sdk_version")"
  [ -n "$sdk" ] || fail "cannot download github.com/pulumi/pulumi/sdk/v3@$langhost_sdk_version"
  install -m 755 "$sdk/python/cmd/pulumi-language-python-exec" "$dir/bin/"
}

build_yaml_host() {
  local dir="$1"
  say "building the YAML language host github.com/pulumi/pulumi-yaml $yaml_version (log: $log)"
  timed "pulumi-language-yaml" env GOBIN="$dir/bin" go install -trimpath \
    -ldflags "$ldflags_common -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$yaml_version" \
    "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@$yaml_version"
}

build_python_sdkgen() {
  local dir="$1"
  say "building pulumi-gen-python (Python SDK generator, scripts/pulumi-toolchain/sdkgen) (log: $log)"
  mkdir -p "$dir/src"
  cp "$here/sdkgen/"* "$dir/src/"
  timed "pulumi-gen-python" go build -C "$dir/src" -trimpath -ldflags "$ldflags_common" -o "$dir/bin/pulumi-gen-python" .
}

build_providers() {
  local dir="$1" scratch="$1/src" p
  say "building pulumi-resource-docker $docker_version ($tf_docker_module@$tf_docker_version on the Terraform bridge) and pulumi-resource-random $random_version (stand-in) (log: $log)"
  mkdir -p "$scratch"
  copy_module "$tf_docker_module@$tf_docker_version" "$scratch/kw" || fail "cannot download $tf_docker_module@$tf_docker_version"
  # Its linters and tools are not needed (and not all served); the shim goes inside the module so that it may import
  # the module's internal provider package.
  rm -rf "$scratch/kw/tools"
  go mod edit -C "$scratch/kw" -droprequire github.com/katbyte/terrafmt -droprequire github.com/golangci/golangci-lint \
    -droprequire github.com/client9/misspell
  mkdir -p "$scratch/kw/shim"
  cp "$here/dockershim/shim.go" "$scratch/kw/shim/"
  # The bridge's plugin SDK fork predates the terraform-plugin-go the docker provider needs: one stub method.
  copy_module "$tf_sdk_fork" "$scratch/tfsdk" || fail "cannot download $tf_sdk_fork"
  cp "$here/sdkpatch/"*.go "$scratch/tfsdk/helper/schema/"
  cp -r "$here/providers" "$scratch/providers"
  timed "pulumi-resource-docker" go build -C "$scratch/providers" -tags no_compose -trimpath \
    -ldflags "$ldflags_common -X main.Version=$docker_version" -o "$dir/bin/pulumi-resource-docker" ./cmd/pulumi-resource-docker
  timed "pulumi-resource-random" go build -C "$scratch/providers" -trimpath \
    -ldflags "$ldflags_common -X main.Version=$random_version" -o "$dir/bin/pulumi-resource-random" ./cmd/pulumi-resource-random
  for p in docker random; do
    DDPSIM_WRITE_SCHEMA="$dir/bin/pulumi-resource-$p.schema.json" "$dir/bin/pulumi-resource-$p" >>"$log" 2>&1 ||
      fail "pulumi-resource-$p could not write its schema"
  done
}

# Keys: the version each piece is built from, and a hash of what of this repository goes into it (a recipe change
# rebuilds that piece alone).
dirs=()
d="$(piece cli "$pulumi_wanted" build_cli)"
dirs+=("$d")
# (-exec: the recipe also installs pulumi-language-python-exec, which the first cached builds lacked)
d="$(piece language-hosts "$langhost_sdk_version-$(hash_of "$here/langhost")-exec" build_language_hosts)"
dirs+=("$d")
if [ "${DDPSIM_TOOLCHAIN_YAML:-1}" != 0 ]; then
  d="$(piece language-yaml "$yaml_version" build_yaml_host)"
  dirs+=("$d")
fi
d="$(piece python-sdkgen "$(hash_of "$here/sdkgen")" build_python_sdkgen)"
dirs+=("$d")
providers_src="$(hash_of "$here/providers" "$here/dockershim" "$here/sdkpatch")"
d="$(piece providers "docker-$docker_version-tf${tf_docker_version##*-}_random-$random_version-$providers_src" build_providers)"
dirs+=("$d")

# One folder for PATH: links to every piece's binaries.
bin="$cache_root/bin-$(printf '%s\n' "${dirs[@]}" | sha256sum | cut -c1-12)"
if [ ! -d "$bin" ]; then
  mkdir -p "$bin.tmp.$$"
  for d in "${dirs[@]}"; do ln -sf "$d"/* "$bin.tmp.$$/"; done
  mv -T "$bin.tmp.$$" "$bin" 2>/dev/null || rm -rf "$bin.tmp.$$"
fi
say "ready: pulumi $("$bin/pulumi" version 2>/dev/null | tr -d v), language hosts from sdk $langhost_sdk_version, docker $docker_version, random $random_version (stand-in)"
echo "$bin"
