#!/usr/bin/env bash
# Builds, with the Go toolchain and from Go modules only, the Pulumi engine pieces the real-engine tests need, and
# prints the folder that holds them on its last line:
#   PATH="$(bash scripts/pulumi-toolchain.sh):$PATH"
# What it builds (docs/real-engine.md tells why each is built the way it is):
#   pulumi                  the CLI, github.com/pulumi/pulumi/pkg/v3 + sdk/v3 at the version of node_modules/@pulumi/pulumi
#                           (or the nearest lower one the module proxy serves), built inside copies of both modules;
#   pulumi-resource-docker  the Terraform docker provider's Go module + scripts/pulumi-toolchain/dockershim, served
#                           through the Pulumi Terraform bridge with @pulumi/docker's tokens (scripts/pulumi-toolchain/providers);
#   pulumi-resource-random  a stand-in for random:index/randomString:RandomString on the same bridge;
#   pulumi-language-nodejs  only if the module proxy serves its module (it did not when this was written): without it
#                           Node.js programs run through the Automation API's inline programs.
# Idempotent and cached by version under ${DDPSIM_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ddpsim-pulumi};
# the build log is there too. A cold build takes tens of minutes on 2 cores; a warm run returns at once.
case "${1:-}" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
here="$repo/scripts/pulumi-toolchain"
cache_root="${DDPSIM_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ddpsim-pulumi}"
tf_docker_module="github.com/kreuzwerker/terraform-provider-docker"
tf_docker_version="${DDPSIM_TF_DOCKER_VERSION:-v0.0.0-20260916201441-96d331c98ff4}"
# Pulumi's fork of the Terraform plugin SDK, at the version pulumi-terraform-bridge v3.120.0 pins.
tf_sdk_fork="github.com/pulumi/terraform-plugin-sdk/v2@v2.0.0-20250923233607-7f1981c8674a"

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

command -v go >/dev/null || die "no Go toolchain on PATH (it builds everything here)"
go_minor="$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
[ -n "$go_minor" ] && [ "$go_minor" -ge 25 ] || die "Go 1.25 or later is needed, found $(go env GOVERSION)"

pulumi_wanted="$(npm_version @pulumi/pulumi)"
docker_version="$(npm_version @pulumi/docker)"
random_version="$(npm_version @pulumi/random)"
src_hash="$( (cat "$0"; cd "$here" && find . -type f | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-12)"
key="pulumi-${pulumi_wanted}_docker-${docker_version}-tf${tf_docker_version##*-}_random-${random_version}_src-${src_hash}"
dir="$cache_root/$key"
bin="$dir/bin"
log="$dir/build.log"
mkdir -p "$bin"

exec 9>"$dir/lock"
flock 9 # one build at a time for this key; a second caller waits, then finds the stamps

fail() { # first error, then the tail of the log
  say "error: $1"
  say "first error lines in $log:"
  grep -m 5 -iE 'error|cannot|refused|forbidden|not available' "$log" | sed 's/^/  /' >&2 || true
  say "last lines of $log:"
  tail -n 25 "$log" | sed 's/^/  /' >&2
  exit 1
}

module_dir() { # module@version -> its directory in the (read-only) module cache; the proxy's answer goes to the log
  local json dir
  json="$(go mod download -json "$1" 2>>"$log")" || true
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")"
  [ -n "$dir" ] || echo "go mod download $1: $(sed -n 's/^[[:space:]]*"Error": "\(.*\)",*$/\1/p' <<<"$json")" >>"$log"
  echo "$dir"
}

copy_module() { # module@version destination: a writable copy of a downloaded module
  local from
  from="$(module_dir "$1")"
  [ -n "$from" ] && [ -d "$from" ] || return 1
  rm -rf "$2"
  cp -r "$from" "$2"
  chmod -R u+w "$2"
}

timed() { # name command...: runs a build step into the log and says how long it took
  local name="$1" start
  shift
  start="$(date +%s)"
  echo "== $name: $*" >>"$log"
  if "$@" >>"$log" 2>&1; then
    say "$name built in $(($(date +%s) - start))s"
  else
    fail "$name failed after $(($(date +%s) - start))s"
  fi
}

scratch="$dir/src"
ldflags_common="-s -w"

# ---- the CLI -------------------------------------------------------------------------------------------------
if [ ! -f "$bin/.ok-pulumi" ]; then
    pulumi_version="$pulumi_wanted"
  if ! go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$pulumi_version" >/dev/null 2>>"$log"; then
    served="$(go list -m -versions github.com/pulumi/pulumi/pkg/v3 2>>"$log" | tr ' ' '\n' | sed -n 's/^v//p')"
    pulumi_version="$(printf '%s\n%s\n' "$served" "$pulumi_wanted" | sort -V | awk -v w="$pulumi_wanted" '$0==w{print prev; exit} {prev=$0}')"
    [ -n "$pulumi_version" ] || fail "the module proxy serves no github.com/pulumi/pulumi/pkg/v3 at or below v$pulumi_wanted"
    say "pkg/v3@v$pulumi_wanted is not served; using v$pulumi_version"
  fi
  say "building the Pulumi CLI v$pulumi_version (log: $log)"
  mkdir -p "$scratch/pulumi"
  copy_module "github.com/pulumi/pulumi/pkg/v3@v$pulumi_version" "$scratch/pulumi/pkg" || fail "cannot download github.com/pulumi/pulumi/pkg/v3@v$pulumi_version"
  copy_module "github.com/pulumi/pulumi/sdk/v3@v$pulumi_version" "$scratch/pulumi/sdk" || fail "cannot download github.com/pulumi/pulumi/sdk/v3@v$pulumi_version"
  timed "pulumi (CLI)" go build -C "$scratch/pulumi/pkg" -trimpath \
    -ldflags "$ldflags_common -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$pulumi_version" \
    -o "$bin/pulumi" ./cmd/pulumi
  echo "$pulumi_version" >"$bin/.ok-pulumi"
fi

# ---- the Node.js language host (only where its module is served) --------------------------------------------
if [ ! -f "$bin/.ok-pulumi-language-nodejs" ] && [ ! -f "$bin/.no-pulumi-language-nodejs" ]; then
  pulumi_version="$(cat "$bin/.ok-pulumi")"
  langhost="github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3@v$pulumi_version"
  if copy_module "$langhost" "$scratch/langhost"; then
    [ -d "$scratch/pulumi/sdk" ] || copy_module "github.com/pulumi/pulumi/sdk/v3@v$pulumi_version" "$scratch/pulumi/sdk"
    [ -d "$scratch/pulumi/pkg" ] || copy_module "github.com/pulumi/pulumi/pkg/v3@v$pulumi_version" "$scratch/pulumi/pkg"
    mkdir -p "$scratch/pulumi/sdk/nodejs/cmd"
    rm -rf "$scratch/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs"
    mv "$scratch/langhost" "$scratch/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs"
    timed "pulumi-language-nodejs" go build -C "$scratch/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs" -trimpath \
      -ldflags "$ldflags_common -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$pulumi_version" \
      -o "$bin/pulumi-language-nodejs" .
    touch "$bin/.ok-pulumi-language-nodejs"
  else
    say "pulumi-language-nodejs not built: the module proxy does not serve $langhost (see $log)"
    echo "$langhost not served" >"$bin/.no-pulumi-language-nodejs"
  fi
fi

# ---- the providers ----------------------------------------------------------------------------------------------
if [ ! -f "$bin/.ok-providers" ]; then
  say "building pulumi-resource-docker $docker_version ($tf_docker_module@$tf_docker_version on the Terraform bridge) and pulumi-resource-random $random_version (stand-in)"
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
  rm -rf "$scratch/providers"
  cp -r "$here/providers" "$scratch/providers"
  timed "pulumi-resource-docker" go build -C "$scratch/providers" -tags no_compose -trimpath \
    -ldflags "$ldflags_common -X main.Version=$docker_version" -o "$bin/pulumi-resource-docker" ./cmd/pulumi-resource-docker
  timed "pulumi-resource-random" go build -C "$scratch/providers" -trimpath \
    -ldflags "$ldflags_common -X main.Version=$random_version" -o "$bin/pulumi-resource-random" ./cmd/pulumi-resource-random
  for p in docker random; do
    DDPSIM_WRITE_SCHEMA="$bin/pulumi-resource-$p.schema.json" "$bin/pulumi-resource-$p" >>"$log" 2>&1 ||
      fail "pulumi-resource-$p could not write its schema"
  done
  touch "$bin/.ok-providers"
fi

rm -rf "$scratch"
say "ready: pulumi $(cat "$bin/.ok-pulumi"), docker $docker_version, random $random_version (stand-in)$([ -f "$bin/.ok-pulumi-language-nodejs" ] && echo ", pulumi-language-nodejs" || echo "; no pulumi-language-nodejs")"
echo "$bin"
