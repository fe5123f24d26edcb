#!/usr/bin/env bash
# The dev stack's GPU containers through a real Docker engine, on a GPU machine that has neither Docker nor the
# NVIDIA Container Toolkit nor a registry (the `device` machines): everything comes from a carry folder made by
# training/gpu_docker_carry.sh on a machine with apt and Go, and the GPU image is made from the machine's own
# python3 (with torch) by `docker import`.
#
#   training/gpu_docker_on_device.sh probe                 what the machine has (OS, kernel, cgroups, driver, torch)
#   training/gpu_docker_on_device.sh engine CARRY          unpack the engine and the toolkit, start dockerd (nvidia
#                                                          runtime in CDI mode, the default runtime), write the CDI spec
#   training/gpu_docker_on_device.sh image                 the GPU image ddpsim-gpu:device (training/Dockerfile's
#                                                          user, folders and environment on the machine's python3)
#   training/gpu_docker_on_device.sh gpus                  nvidia-smi -L in a container with --gpus device=0
#   training/gpu_docker_on_device.sh plain CARRY OUT NAME  start CARRY/plain-NAME.sh (scripts/plainDockerScript.ts),
#                                                          wait for both nodes, keep their logs in OUT, remove them
#   training/gpu_docker_on_device.sh take PARTS            keep one call's parts of pulumi.tar.xz under $DDPSIM_GPU_ROOT
#   training/gpu_docker_on_device.sh pulumi OUT            `pulumi up` of the dev stack (one GPU shared by its 2
#                                                          nodes, the image above), the verdict, `pulumi destroy`
#                                                          (the pulumi parts are unpacked first, once)
#
# Needs root. Installs nothing outside $DDPSIM_GPU_ROOT (default /opt/ddpsim-gpu) but /etc/docker/daemon.json,
# /etc/cdi/nvidia.yaml and /etc/nvidia-container-runtime/config.toml; dockerd keeps running (own session) so that
# a later call on the same machine finds it. Keep NVLink multicast off everywhere (the machine's GPUs are shared).
set -uo pipefail
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="${DDPSIM_REPO:-$(cd "$here/.." && pwd)}"  # the checkout (a copy of this script may run from elsewhere)
G="${DDPSIM_GPU_ROOT:-/opt/ddpsim-gpu}"
IMAGE=ddpsim-gpu:device
export PATH="$G/bin:$G/node/bin:$PATH"
t0=$(date +%s)
say() { echo "[$(printf '%4s' $(( $(date +%s) - t0 )))s] $*"; }
unxz() { if command -v xz >/dev/null; then xz -dc "${1:--}"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1] if sys.argv[1] != "-" else sys.stdin.buffer), sys.stdout.buffer)' "${1:--}"; fi; }
show() { echo "\$ $*"; "$@" 2>&1 | sed 's/^/  /'; return "${PIPESTATUS[0]}"; }

probe() {
  show cat /etc/os-release | grep -E 'PRETTY|VERSION_ID'
  show ldd --version | head -1
  show uname -r
  show id
  show nproc
  echo "cgroup fs: $(stat -fc %T /sys/fs/cgroup 2>&1); controllers: $(cat /sys/fs/cgroup/cgroup.controllers 2>&1); self: $(cat /proc/self/cgroup 2>&1 | tr '\n' ' ')"
  echo "filesystems: $(grep -E 'overlay|tmpfs|cgroup|fuse' /proc/filesystems | awk '{print $NF}' | tr '\n' ' ')"
  echo "/ is $(stat -fc %T /); /var/lib is $(stat -fc %T /var/lib); /tmp is $(stat -fc %T /tmp)"
  show df -h / /tmp
  for t in iptables iptables-legacy nft ip tc modprobe unshare mount curl xz zstd ldconfig ldconfig.real nvidia-smi python3 node docker; do
    printf '%-16s %s\n' "$t" "$(command -v $t || echo -)"; done
  [ -r /proc/config.gz ] && zcat /proc/config.gz | grep -E '^CONFIG_(OVERLAY_FS|BRIDGE|VETH|BRIDGE_NETFILTER|NF_NAT|IP_NF_IPTABLES|NF_TABLES|CGROUP_BPF|MEMCG|CGROUP_PIDS|USER_NS|NET_NS|SECCOMP)=' | tr '\n' ' '; echo
  show nvidia-smi -L
  show nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  show sh -c 'ldconfig -p | grep -E "libnvidia-ml|libcuda\.so" ; ls -d /usr/local/nvidia /usr/local/nvidia/* 2>/dev/null; ls /dev/nvidia*'
  show python3 -c 'import sys, torch; print(sys.executable, sys.prefix, sys.base_prefix, sys.version.split()[0]); print("torch", torch.__version__, "cuda", torch.version.cuda, "nccl", ".".join(map(str, torch.cuda.nccl.version())), "gpus", torch.cuda.device_count())'
}

# ---- the engine ---------------------------------------------------------------------------------------------------
engine() {
  local carry="$1"
  if docker info >/dev/null 2>&1; then say "dockerd already answers"; return 0; fi
  mkdir -p "$G"
  for part in engine iptables nvidia; do unxz "$carry/$part.tar.xz" | tar -C "$G" -x || { echo "cannot unpack $carry/$part.tar.xz"; return 1; }; done
  say "unpacked: $(ls "$G/bin" | tr '\n' ' ')"
  # cgroups: docker needs a hierarchy; mount cgroup2 where nothing is mounted.
  if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ] && [ ! -d /sys/fs/cgroup/memory ]; then
    show mount -t cgroup2 none /sys/fs/cgroup
  fi
  # Storage: overlay2 on a file system that is not itself overlay (else a tmpfs under it), vfs without overlay.
  local driver=overlay2 data=/var/lib/docker
  mkdir -p "$data"
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
  if ! grep -qw overlay /proc/filesystems; then driver=vfs
  elif [ "$(stat -fc %T /var/lib)" = overlayfs ]; then show mount -t tmpfs -o size=100g tmpfs "$data"; fi
  # iptables: the machine's, else the carried one (nft, else legacy); dockerd's embedded DNS needs it in every
  # container's network namespace. Without a working one, dockerd runs with --iptables=false.
  local iptables=true
  export XTABLES_LIBDIR="$G/lib/xtables"
  if ! { command -v iptables >/dev/null && iptables -L -n >/dev/null 2>&1; }; then
    local flavour
    for flavour in nft legacy; do
      for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
        ln -sf "xtables-$flavour-multi" "$G/bin/$t"; done
      LD_LIBRARY_PATH="$G/lib" iptables -t nat -L -n >/dev/null 2>&1 && break
      show env LD_LIBRARY_PATH="$G/lib" iptables -t nat -L -n
      flavour=none
    done
    [ "$flavour" = none ] && { iptables=false; rm -f "$G"/bin/ip*tables*; }
    say "iptables: ${flavour} (carried)"
  fi
  mkdir -p /etc/docker /etc/nvidia-container-runtime /etc/cdi
  cat > /etc/docker/daemon.json <<EOF
{"data-root": "$data", "storage-driver": "$driver", "iptables": $iptables, "ip-masq": $iptables,
 "runtimes": {"nvidia": {"path": "$G/bin/nvidia-container-runtime"}}, "default-runtime": "nvidia"}
EOF
  show cat /etc/docker/daemon.json
  # The runtime in CDI mode: it turns NVIDIA_VISIBLE_DEVICES (set by dockerd's nvidia device driver, which dockerd
  # registers because nvidia-container-runtime-hook is on its PATH) into CDI devices and drops the hook.
  nvidia-ctk config default --output /etc/nvidia-container-runtime/config.toml &&
  nvidia-ctk config -c /etc/nvidia-container-runtime/config.toml -i --set nvidia-container-runtime.mode=cdi \
    --set "nvidia-container-runtime.runtimes=$G/bin/runc" --set nvidia-container-runtime.debug=/var/log/nvidia-container-runtime.log \
    --set "nvidia-ctk.path=$G/bin/nvidia-ctk" --set "nvidia-container-runtime-hook.path=$G/bin/nvidia-container-runtime-hook" || return 1
  show nvidia-ctk cdi generate --output /etc/cdi/nvidia.yaml --nvidia-cdi-hook-path "$G/bin/nvidia-cdi-hook" || return 1
  show nvidia-ctk cdi list
  say "starting dockerd ($driver, iptables $iptables)"
  LD_LIBRARY_PATH="$G/lib" setsid nohup dockerd >/var/log/ddpsim-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  if ! docker info >/dev/null 2>&1; then echo "dockerd did not answer in 60 s:"; tail -n 40 /var/log/ddpsim-dockerd.log; return 1; fi
  say "docker $(docker version --format '{{.Server.Version}}') up: $(docker info --format 'driver {{.Driver}}, cgroup {{.CgroupVersion}} ({{.CgroupDriver}}), runtimes {{range $k, $v := .Runtimes}}{{$k}} {{end}}default {{.DefaultRuntime}}')"
}

# ---- the image ------------------------------------------------------------------------------------------------------
# The machine's python3 (a virtual environment over its base interpreter) and the system around it, without the GPU
# driver (the CDI spec brings that in; the driver's folder here is /usr/local/nvidia, which the image puts on PATH and
# LD_LIBRARY_PATH as NVIDIA's CUDA images, and so the official PyTorch images, do) and without packages torch does not need; then training/Dockerfile without its
# base image and apt-get (no registry here): its user, folders and environment.
image() {
  docker image inspect "$IMAGE" >/dev/null 2>&1 && { say "$IMAGE exists"; return 0; }
  local venv base
  venv=$(python3 -c 'import sys; print(sys.prefix)') base=$(python3 -c 'import sys; print(sys.base_prefix)')
  local paths=(bin sbin lib lib64 usr etc "${venv#/}")
  [[ "$base" == /usr* ]] || paths+=("${base#/}")
  local site; site=$(python3 -c 'import site; print(site.getsitepackages()[0])')
  local drop=(jax jaxlib jax_cuda13_plugin jax_cuda13_pjrt cupy cupy_backends tensorflow onnxruntime cv2 opencv_python_headless.libs
    scipy sklearn scikit_learn.libs skimage pyarrow tensorstore llvmlite numba numba_cuda transformers torch_geometric pandas
    botorch gpytorch flax optax orbax statsmodels matplotlib)
  local ex=(--exclude=usr/local/cuda --exclude='usr/local/cuda-*' --exclude=usr/local/nvidia --exclude=opt/nvidia
    --exclude='usr/lib/x86_64-linux-gnu/libcuda.so*' --exclude='usr/lib/x86_64-linux-gnu/libnvidia-*'
    --exclude='usr/lib/libcuda*' --exclude='usr/lib/libnvidia*' --exclude='usr/bin/nvidia-*' --exclude=usr/share/doc --exclude=usr/share/man --exclude='*/__pycache__')
  for p in "${drop[@]}"; do ex+=("--exclude=${site#/}/$p"); done
  say "image from ${paths[*]} (python $venv over $base)"
  local started=$(date +%s)
  # (tar's complaints about sockets and files that change under it are not failures of the image)
  tar -C / -c "${ex[@]}" "${paths[@]}" 2>/dev/null |
    docker import --change "ENV PATH=/usr/local/nvidia/bin:$venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      --change "ENV LD_LIBRARY_PATH=/usr/local/nvidia/lib:/usr/local/nvidia/lib64" - ddpsim-gpu:base >/dev/null
  docker image inspect ddpsim-gpu:base >/dev/null || { echo "docker import made no image"; return 1; }
  say "imported ddpsim-gpu:base in $(( $(date +%s) - started ))s: $(docker image inspect -f '{{.Size}}' ddpsim-gpu:base | awk '{printf "%.1f GB", $1/1e9}')"
  local ctx; ctx=$(mktemp -d)
  sed -e 's|^FROM .*|FROM ddpsim-gpu:base|' -e '/^RUN apt-get update/,/lists\/\*$/d' "$repo/training/Dockerfile" > "$ctx/Dockerfile"
  grep -n '^FROM\|^RUN\|^USER\|^ENV' "$ctx/Dockerfile" | sed 's/^/  Dockerfile: /'
  DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE" "$ctx" 2>&1 | tail -n 5
  docker image inspect "$IMAGE" >/dev/null || { echo "docker build made no $IMAGE"; return 1; }
  rm -rf "$ctx"
  docker run --rm --runtime runc "$IMAGE" sh -c 'id; python3 -c "import torch; print(\"torch\", torch.__version__)"; echo "driver files in the image: $(find /usr/lib /usr/local/nvidia /usr/bin -name "libcuda.so*" -o -name "libnvidia-ml.so*" -o -name nvidia-smi 2>/dev/null | wc -l)"'
}

gpus() {
  show docker run --rm --gpus device=0 "$IMAGE" nvidia-smi -L
  show docker run --rm --gpus device=0 "$IMAGE" python3 -c 'import torch; print("in a container:", torch.cuda.get_device_name(0), "nccl", torch.cuda.nccl.version())'
}

# ---- plain docker run of the plan ----------------------------------------------------------------------------------
plain() {
  local carry="$1" out="$2" name="$3" limit="${4:-300}"
  local NETWORK VOLUME CONTAINERS
  say "plain docker run: $name"
  # The plan names the stack's own run volume: one kept by `pulumi destroy` holds that run's checkpoints (and a new
  # run would resume from them), so it is neither used nor removed here.
  local planned; planned=$(sed -n 's/^VOLUME=//p' "$carry/plain-$name.sh")
  if docker volume inspect "$planned" >/dev/null 2>&1; then
    echo "plain $name: the run volume $planned exists (kept by an earlier run); remove it first (docker volume rm $planned)"
    return 1
  fi
  DDPSIM_REPO="$repo" source "$carry/plain-$name.sh" >/dev/null || { echo "plain-$name.sh failed"; return 1; }
  show docker ps --format '{{.Names}} {{.Status}} {{.RunningFor}}'
  for c in "${CONTAINERS[@]}"; do show docker exec "$c" nvidia-smi -L; done
  local deadline=$(( $(date +%s) + limit ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    local running=0
    for c in "${CONTAINERS[@]}"; do [ "$(docker inspect -f '{{.State.Running}}' "$c")" = true ] && running=$((running + 1)); done
    [ "$running" = 0 ] && break
    sleep 2
  done
  for c in "${CONTAINERS[@]}"; do
    docker logs "$c" > "$out/$name-$c.log" 2>&1
    echo "$c: exit $(docker inspect -f '{{.State.ExitCode}} restarts {{.RestartCount}}' "$c")"
  done
  grep -h "all ranks agree\|RANKS DISAGREE\|DDPSIM_VERDICT\|NCCL sockets\|DDPSIM_RESULT\|busbw\|NET/Socket : Using\|Using network Socket\|Channel 0.*via" "$out/$name-"*.log | cut -c1-400 | head -30
  docker run --rm -v "$VOLUME:/w" --runtime runc "$IMAGE" sh -c 'ls /w; cat /w/metrics.jsonl /w/result.json /w/bench.json 2>/dev/null' > "$out/$name-volume.txt" 2>&1
  docker rm -f "${CONTAINERS[@]}" >/dev/null; docker network rm "$NETWORK" >/dev/null
  docker volume rm "$VOLUME" >/dev/null
}


# ---- the dev stack through Pulumi ---------------------------------------------------------------------------------
# take PART_DIR: keep one call's parts of pulumi.tar.xz (the carry is split over calls on a machine kept warm)
take() { mkdir -p "$G/parts" && cp "$1"/pulumi.tar.xz.part* "$G/parts/" && say "parts here: $(ls "$G/parts" | tr '\n' ' ')"; }

# pulumi OUT: `pulumi up` of the dev stack with what one GPU and no registry need, the verdict, `pulumi destroy`.
pulumi_dev() {
  local out="$1"
  if [ ! -x "$G/bin/pulumi" ]; then  # (the parts may hold several .tar.xz one after another: xz and tar -i read on)
    cat "$G/parts"/pulumi.tar.xz.part* | unxz - | tar -i -C "$G" -x || { echo "cannot unpack the pulumi parts"; return 1; }
  fi
  cd "$repo" || return 1
  [ -e node_modules ] || ln -s "$G/project/node_modules" node_modules
  [ -e bin ] || cp -r "$G/project/bin" bin
  export PULUMI_BACKEND_URL="file://$repo/.pulumi" PULUMI_CONFIG_PASSPHRASE="" PULUMI_SKIP_UPDATE_CHECK=true \
    PULUMI_HOME="$G/pulumi-home" PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
  mkdir -p .pulumi
  say "pulumi $(pulumi version), node $(node --version)"
  pulumi stack select --create --secrets-provider passphrase dev || return 1
  # One GPU, two nodes: gpuSharing (docs/gpus.md, "More nodes than GPUs"), the GPUs read by nvidia-smi (auto).
  # The image: training/Dockerfile's steps on the machine's own python3, built above (no registry for its base);
  # imageMode local, since the provider scripts/pulumi-toolchain.sh builds has no docker.Image (docs/real-engine.md).
  pulumi config set --path --type string 'ddpsim:gpuIds[0]' auto &&
  pulumi config set ddpsim:gpuSharing true &&
  pulumi config set ddpsim:imageMode local && pulumi config set ddpsim:image "$IMAGE" &&
  pulumi config set --path ddpsim:env.NCCL_DEBUG INFO &&
  pulumi config set --path ddpsim:env.NCCL_DEBUG_SUBSYS INIT,NET &&
  # The trainer's defaults (100 steps of a small MLP) with a pause per step, so that nvidia-smi -L can be asked
  # inside both containers while they train.
  pulumi config set --path --type string 'ddpsim:scriptArgs[0]' -- --step-sleep &&
    pulumi config set --path --type string 'ddpsim:scriptArgs[1]' 0.25 || return 1
  show cat Pulumi.dev.yaml
  local started=$(date +%s)
  pulumi up --yes --skip-preview 2>&1 | tee "$out/pulumi-up.txt" || return 1
  say "pulumi up took $(( $(date +%s) - started ))s"
  show pulumi stack output --json
  local c
  for c in $(docker ps -a --filter label=ddpsim.stack=dev --format '{{.Names}}'); do
    show docker inspect -f '{{.Name}}: {{.State.Status}}, device requests {{json .HostConfig.DeviceRequests}}, shm {{.HostConfig.ShmSize}}, runtime {{.HostConfig.Runtime}}' "$c"
    show docker exec "$c" nvidia-smi -L
  done
  show timeout 300 node bin/cli/main.js wait --stack dev --timeout 4m
  for c in $(docker ps -a --filter label=ddpsim.stack=dev --format '{{.Names}}'); do docker logs "$c" > "$out/pulumi-$c.log" 2>&1; done
  grep -h "all ranks agree\|RANKS DISAGREE\|DDPSIM_VERDICT\|NCCL sockets\|DDPSIM_RESULT\|via NET\|NET/Socket : Using" "$out"/pulumi-*.log | cut -c1-400 | head -20
  local volume; volume=$(pulumi stack output checkpointVolumeName)
  say "pulumi up to verdict: $(( $(date +%s) - started ))s; destroying"
  pulumi destroy --yes --skip-preview 2>&1 | tail -n 15
  show docker ps -a --filter label=ddpsim.stack=dev
  show docker volume inspect -f '{{.Name}} kept, created {{.CreatedAt}}' "$volume"
  show docker run --rm --runtime runc -v "$volume:/w" "$IMAGE" ls /w
}

case "${1:-}" in
  probe) probe ;;
  engine) engine "${2:?carry folder}" ;;
  image) image ;;
  gpus) gpus ;;
  plain) plain "${2:?carry folder}" "${3:?out folder}" "${4:?name}" "${5:-300}" ;;
  take) take "${2:?part folder}" ;;
  pulumi) pulumi_dev "${2:?out folder}" ;;
  *) awk 'NR > 1 && !/^#/ {exit} NR > 1 {print}' "${BASH_SOURCE[0]}"; exit 2 ;;
esac
