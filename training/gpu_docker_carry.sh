#!/usr/bin/env bash
# Makes the carry folders for training/gpu_docker_on_device.sh: what a GPU machine without Docker, without the NVIDIA
# Container Toolkit and without a registry needs to run the dev stack's containers. Run it on a Debian machine with
# the Docker engine installed (scripts/setup-docker.sh), Go, Node.js and this checkout's node_modules (npm ci).
#
#   training/gpu_docker_carry.sh OUT            OUT/1: project.tar.xz (git archive HEAD), engine.tar.xz (dockerd, containerd, its shim, runc, tini,
#                                               docker-proxy, the docker CLI, dockerd's and runc's libraries from
#                                               this machine), iptables.tar.xz, nvidia.tar.xz (NVIDIA Container Toolkit, built from
#                                               its Go module), plain-NAME.sh (the stack as plain docker commands)
#   training/gpu_docker_carry.sh --pulumi OUT   also OUT/2, OUT/3, ...: pulumi.tar.xz in parts under PART_MB (the
#                                               CLI and providers of scripts/pulumi-toolchain.sh, the Node.js language
#                                               host, Node.js, node_modules, the compiled bin/)
#
# Each folder is one device call's carry (64 MiB with the checkout); the parts are joined on the device. Versions:
# NVCT_VERSION (default v1.20.2), PART_MB (default 58). The built toolkit and language host are cached by version
# under ${XDG_CACHE_HOME:-$HOME/.cache}/ddpsim-gpu-carry.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
with_pulumi=0
[ "${1:-}" = --pulumi ] && { with_pulumi=1; shift; }
out="${1:?usage: gpu_docker_carry.sh [--pulumi] OUT}"
mkdir -p "$out/1" && out="$(cd "$out" && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ddpsim-gpu-carry"
nvct="${NVCT_VERSION:-v1.20.2}"
part_mb="${PART_MB:-58}"
say() { echo "gpu_docker_carry: $*" >&2; }
pack() { tar -C "$1" -c . | nice -n 10 xz -6 -T1 > "$2"; say "$(basename "$2"): $(du -h "$2" | cut -f1)"; }
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

# ---- this checkout (its committed state), which the device runs from ------------------------------------------------
git -C "$repo" archive HEAD | nice -n 10 xz -6 -T1 > "$out/1/project.tar.xz"

# ---- the engine: this machine's Debian binaries and the libraries dockerd and runc link beyond glibc -----------------
if [ ! -s "$out/1/engine.tar.xz" ]; then
  mkdir -p "$stage/engine/bin" "$stage/engine/lib"
  for b in dockerd containerd containerd-shim-runc-v2 runc docker-proxy docker; do
    cp "$(command -v "$b")" "$stage/engine/bin/" || { say "$b is missing: install docker.io (scripts/setup-docker.sh)"; exit 1; }
  done
  cp -L "$(command -v docker-init)" "$stage/engine/bin/docker-init"
  for lib in $( (ldd "$(command -v dockerd)"; ldd "$(command -v runc)") | awk '/=>/ {print $3}' | sort -u); do
    case "$lib" in */libc.so.6|*/libm.so.6) ;; *) cp -L "$lib" "$stage/engine/lib/" ;; esac
  done
  pack "$stage/engine" "$out/1/engine.tar.xz"
fi

# iptables (nft and legacy) with its extensions: dockerd's embedded DNS sets up its redirect with iptables in each
# container's network namespace, so a host without iptables resolves no node names.
if [ ! -s "$out/1/iptables.tar.xz" ]; then
  mkdir -p "$stage/iptables/bin" "$stage/iptables/lib"
  for b in xtables-nft-multi xtables-legacy-multi; do cp "$(command -v "$b")" "$stage/iptables/bin/"; done
  for lib in $(ldd "$(command -v xtables-nft-multi)" "$(command -v xtables-legacy-multi)" | awk '/=>/ {print $3}' | sort -u); do
    case "$lib" in */libc.so.6) ;; *) cp -L "$lib" "$stage/iptables/lib/" ;; esac
  done
  cp -r "$(dirname "$(ldd "$(command -v xtables-nft-multi)" | awk '/libxtables/ {print $3}')")/xtables" "$stage/iptables/lib/xtables"
  pack "$stage/iptables" "$out/1/iptables.tar.xz"
fi

# ---- the NVIDIA Container Toolkit (nvidia-ctk, the runtime, its hook, nvidia-cdi-hook), from its Go module ---------
tk="$cache/nvidia-container-toolkit-$nvct"
if [ ! -x "$tk/bin/nvidia-cdi-hook" ]; then
  src="$(go mod download -json "github.com/NVIDIA/nvidia-container-toolkit@$nvct" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -n "$src" ] || { say "the Go module proxy does not serve github.com/NVIDIA/nvidia-container-toolkit@$nvct"; exit 1; }
  rm -rf "$tk/src" && mkdir -p "$tk/bin" && cp -r "$src" "$tk/src" && chmod -R u+w "$tk/src"
  for c in nvidia-ctk nvidia-container-runtime nvidia-container-runtime-hook nvidia-cdi-hook; do
    (cd "$tk/src" && nice -n 10 go build -trimpath -ldflags "-s -w" -o "$tk/bin/$c" "./cmd/$c")
  done
  rm -rf "$tk/src"
fi
if [ ! -s "$out/1/nvidia.tar.xz" ]; then
  mkdir -p "$stage/nvidia/bin" && cp "$tk/bin/"* "$stage/nvidia/bin/"
  pack "$stage/nvidia" "$out/1/nvidia.tar.xz"
fi

# ---- the dev stack as plain docker commands, for one GPU shared by its two nodes -----------------------------------
# The same stack config that the pulumi step sets on the device (gpu_docker_on_device.sh pulumi), with NCCL's INFO log.
bench_args='["--device","cuda","--bench","--bench-sizes","16M,256M","--bench-iters","10","--bench-warmup","2"]'
mlp_args='["--device","cuda","--model","mlp","--input-dim","1024","--hidden","4096","--depth","4","--classes","10","--batch-size","1024","--lr","1e-3","--steps","25","--log-every","5","--checkpoint-every","1000"]'
for name in dev bench mlp; do
  case "$name" in dev) args='[]' ;; bench) args="$bench_args" ;; mlp) args="$mlp_args" ;; esac
  node -e '
    const fs = require("fs"), yaml = require("yaml");
    const [file, out, args] = process.argv.slice(1);
    const s = yaml.parse(fs.readFileSync(file, "utf8"));
    Object.assign(s.config, { "ddpsim:gpuIds": ["0"], "ddpsim:gpuSharing": true, "ddpsim:imageMode": "local",
      "ddpsim:image": "ddpsim-gpu:device", "ddpsim:env": { NCCL_DEBUG: "INFO", NCCL_DEBUG_SUBSYS: "INIT,NET" } });
    if (JSON.parse(args).length > 0) s.config["ddpsim:scriptArgs"] = JSON.parse(args);
    fs.writeFileSync(out, yaml.stringify(s));' "$repo/Pulumi.dev.yaml" "$stage/Pulumi.$name.yaml" "$args"
  (cd "$repo" && node -r ts-node/register/transpile-only scripts/plainDockerScript.ts --stack dev \
     --config-file "$stage/Pulumi.$name.yaml" --out "$out/1/plain-$name.sh")
done
say "1/: $(du -sh "$out/1" | cut -f1)"
[ "$with_pulumi" = 1 ] || exit 0

# ---- the Pulumi path: CLI and providers, the Node.js language host, Node.js, node_modules, bin/ ---------------------
toolchain="$(cd "$repo" && bash scripts/pulumi-toolchain.sh | tail -n 1)"
lh="$cache/pulumi-language-nodejs-v3.68.0"
if [ ! -x "$lh/pulumi-language-nodejs" ]; then
  # The last sdk/v3 that carries the Node.js host (docs: environment notes); its go.mod's replace needs a wrapper.
  w="$stage/lhwrap" && mkdir -p "$w" "$lh"
  printf 'module example.com/lhwrap\n\ngo 1.21\n\nrequire github.com/pulumi/pulumi/sdk/v3 v3.68.0\n\nreplace golang.org/x/text => golang.org/x/text v0.3.6\n' > "$w/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"\n' > "$w/tools.go"
  (cd "$w" && go mod tidy -e >/dev/null 2>&1; nice -n 10 go build -o "$lh/pulumi-language-nodejs" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs)
fi
(cd "$repo" && npm run -s build)
p="$stage/pulumi" && mkdir -p "$p/bin" "$p/node/bin" "$p/project"
cp "$toolchain"/pulumi "$toolchain"/pulumi-resource-* "$lh/pulumi-language-nodejs" "$p/bin/"
cp "$(command -v node)" "$p/node/bin/"
# node_modules (a link to one is followed) without what only tests and editors use, and the compiled bin/
mkdir -p "$p/project/node_modules"
tar -C "$(cd "$repo/node_modules" && pwd -P)" -c --exclude=./kubernetes-models --exclude=./@kubernetes-models \
  --exclude=./mocha --exclude=./.cache . | tar -C "$p/project/node_modules" -x
cp -r "$repo/bin" "$p/project/bin"
tar -C "$p" -c . | nice -n 10 xz -6 -T2 | split -b "${part_mb}M" -d -a 2 - "$stage/pulumi.tar.xz.part"
i=2
for part in "$stage"/pulumi.tar.xz.part*; do mkdir -p "$out/$i"; mv "$part" "$out/$i/"; i=$((i + 1)); done
say "pulumi parts: $(ls "$out"/*/pulumi.tar.xz.part* | wc -l) in $(ls -d "$out"/[2-9]* | tr '\n' ' ')"
