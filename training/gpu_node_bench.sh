#!/usr/bin/env bash
# The GPU benchmark of the node path, without Docker: every simulated node is what a ddpsim container is, as far as
# NCCL and torchrun can tell: its own network namespace (a veth "eth0" on a bridge), its own UTS namespace
# (hostname nodeI) and its own mount namespace (a hosts file naming every node bind-mounted on /etc/hosts), tc tbf
# on its eth0 for a bandwidth profile, and torchrun with the c10d rendezvous and the environment the containers get.
#
#   training/gpu_node_bench.sh OUT_DIR           the benchmark (one table: native, NCCL socket defaults, our
#                                                 settings, each bandwidth profile, GPU sharing); < 10 min on 2 GPUs
#   training/gpu_node_bench.sh --sweep OUT_DIR   NCCL_NSOCKS_PERTHREAD x NCCL_SOCKET_NTHREADS, alternating rounds
#   training/gpu_node_bench.sh --cpus OUT_DIR    defaults vs ours with every process on 8 and 16 CPUs; 100mbit
#   training/gpu_node_bench.sh --fetch-debs      download iproute2 and its libraries as Debian packages (needs apt)
#
# Needs: root, 2 GPUs (sharing runs use GPU 0 only), python3 with torch, unshare and mount (util-linux). ip and tc
# come from the system when it has them, else from Debian packages in $IPROUTE2_DEBS (default .iproute2-debs at the
# repository root, ignored by git), unpacked into a temporary folder and run with their own LD_LIBRARY_PATH. A
# machine without apt (a GPU server that reaches no registry) gets them from a checkout where `--fetch-debs` ran.
# Writes into OUT_DIR: log.txt (everything), summary.txt (the table), summary.json, runs.tar.gz (every node's log,
# bench.json and metrics.jsonl). Environment knobs: DDPSIM_BENCH_BUDGET_S (default 540: configurations that would
# end later are skipped, and the table says so), DDPSIM_BENCH_ROUNDS (default 3), DDPSIM_BENCH_ONLY (a comma list of
# configurations to run, e.g. 100mbit; the others are left out), DDPSIM_BENCH_DRY=1 (CPU and gloo,
# tiny models: checks the plumbing on a machine without GPUs), DDPSIM_BENCH_ROOT (a root file system that the nodes'
# python3 runs in, by chroot; for dry runs on a machine whose own python3 has no torch).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
debs="${IPROUTE2_DEBS:-$repo/.iproute2-debs}"
DEB_PACKAGES="iproute2 libbpf1 libelf1 libmnl0 libxtables12 libcap2 libbsd0 libmd0 libtirpc3 libgssapi-krb5-2 libkrb5-3
  libk5crypto3 libkrb5support0 libkeyutils1 libcom-err2 libdb5.3"

# Keep NVLink multicast off everywhere (it can take the host's shared GPUs out of service).
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1

fetch_debs() {
  command -v apt-get >/dev/null || { echo "gpu_node_bench: apt-get is missing; fetch the packages on a Debian/Ubuntu machine" >&2; return 1; }
  mkdir -p "$debs" && (cd "$debs" && apt-get download $DEB_PACKAGES) || return 1
  echo "gpu_node_bench: iproute2 packages in $debs"
}

mode=bench
case "${1:-}" in
  --fetch-debs) fetch_debs; exit $? ;;
  --sweep) mode=sweep; shift ;;
  --cpus) mode=cpus; shift ;;
  -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {print}' "${BASH_SOURCE[0]}"; exit 0 ;;
  "") awk 'NR > 1 && !/^#/ {exit} NR > 1 {print}' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
out="${1:?usage: gpu_node_bench.sh [--sweep] OUT_DIR}"
mkdir -p "$out" && out="$(cd "$out" && pwd)"
[ "$(id -u)" = 0 ] || { echo "gpu_node_bench: needs root (network namespaces)" >&2; exit 1; }

work="${TMPDIR:-/tmp}/ddpsim-node-bench"
rm -rf "$work"; mkdir -p "$work/runs" "$work/hosts"
exec > >(tee "$out/log.txt") 2>&1
t0=$(date +%s)
budget="${DDPSIM_BENCH_BUDGET_S:-540}"
rounds="${DDPSIM_BENCH_ROUNDS:-3}"
dry="${DDPSIM_BENCH_DRY:-0}"
root="${DDPSIM_BENCH_ROOT:-}"
wrap=(); [ -n "$root" ] && wrap=(chroot "$root")
orig_ld="${LD_LIBRARY_PATH-__unset__}"
if [ "$orig_ld" = __unset__ ]; then restore_ld=(-u LD_LIBRARY_PATH); else restore_ld=("LD_LIBRARY_PATH=$orig_ld"); fi
elapsed() { echo $(( $(date +%s) - t0 )); }
say() { echo "[$(printf '%4s' "$(elapsed)")s] $*"; }

# ---- ip and tc ----------------------------------------------------------------------------------------------------
ip_env=()
if command -v ip >/dev/null && command -v tc >/dev/null && tc -V >/dev/null 2>&1; then
  IP=ip TC=tc
else
  ls "$debs"/iproute2_*.deb >/dev/null 2>&1 || fetch_debs || {
    echo "gpu_node_bench: no ip/tc here and no iproute2 packages in $debs: run 'bash training/gpu_node_bench.sh --fetch-debs' on a machine with apt and bring that folder" >&2
    exit 1; }
  # Unpacked by Python (a .deb is an ar archive holding data.tar.*): no dpkg needed, and none of it is installed.
  ipr="$work/iproute2"; mkdir -p "$ipr"
  python3 - "$ipr" "$debs"/*.deb <<'EOF' || exit 1
import io, sys, tarfile
safe = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}
for deb in sys.argv[2:]:
    data, pos = open(deb, "rb").read(), 8  # "!<arch>\n", then members with 60-byte headers
    while pos < len(data):
        name, size = data[pos:pos + 16].decode().strip().rstrip("/"), int(data[pos + 48:pos + 58])
        if name.startswith("data.tar"):
            tarfile.open(fileobj=io.BytesIO(data[pos + 60:pos + 60 + size])).extractall(sys.argv[1], **safe)
        pos += 60 + size + (size & 1)
EOF
  ip_env=(env "LD_LIBRARY_PATH=$ipr/lib/x86_64-linux-gnu:$ipr/usr/lib/x86_64-linux-gnu")
  # Debian 12 has bin/ip (sbin/ip links to /bin/ip, absent here) and sbin/tc: take the real files.
  IP= TC=
  for d in sbin usr/sbin bin usr/bin; do
    [ -z "$IP" ] && [ -f "$ipr/$d/ip" ] && [ ! -L "$ipr/$d/ip" ] && IP="$ipr/$d/ip"
    [ -z "$TC" ] && [ -f "$ipr/$d/tc" ] && [ ! -L "$ipr/$d/tc" ] && TC="$ipr/$d/tc"
  done
  [ -n "$IP" ] && [ -n "$TC" ] || { echo "gpu_node_bench: no ip or tc in the packages of $debs ($(ls "$debs" | wc -l) files)" >&2; exit 1; }
fi
ipx() { "${ip_env[@]}" "$IP" "$@"; }
tcx() { "${ip_env[@]}" "$TC" "$@"; }
say "ip: $IP ($(ipx -V)); tc: $TC ($(tcx -V))"

# ---- the simulated nodes ------------------------------------------------------------------------------------------
MAX_NODES=4 BRIDGE=ddpnb0 SUBNET=10.213.0
node_ip() { echo "$SUBNET.$((10 + $1))"; }
net_down() {
  for i in $(seq 0 $((MAX_NODES - 1))); do ipx netns del "ddpnb$i" 2>/dev/null; done
  ipx link del "$BRIDGE" 2>/dev/null
  return 0
}
net_up() {
  net_down
  [ -w /proc/sys/net/bridge/bridge-nf-call-iptables ] && echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables
  ipx link add "$BRIDGE" type bridge && ipx link set "$BRIDGE" up || return 1
  { echo "127.0.0.1 localhost"; for i in $(seq 0 $((MAX_NODES - 1))); do echo "$(node_ip "$i") node$i"; done; } > "$work/hosts/hosts"
  for i in $(seq 0 $((MAX_NODES - 1))); do
    ipx netns add "ddpnb$i" &&
    ipx link add "ddpnbv$i" type veth peer name eth0 netns "ddpnb$i" &&
    ipx link set "ddpnbv$i" master "$BRIDGE" up &&
    ipx -n "ddpnb$i" addr add "$(node_ip "$i")/24" dev eth0 &&
    ipx -n "ddpnb$i" link set eth0 up && ipx -n "ddpnb$i" link set lo up || return 1
  done
}
trap 'net_down' EXIT

tbf_burst() { local b=$(( $1 * 1000000 / 8 * 8 / 1000 )); [ "$b" -lt 32768 ] && b=32768; echo "$b"; }  # rate x 8 ms
# shape RATE_MBIT [LATENCY_MS JITTER_MS LOSS_PERCENT]: what the containers' tcCommands do, on every node's eth0; "-" = none
shape() {
  local rate="$1" lat="${2:--}" jit="${3:--}" loss="${4:--}" i
  for i in $(seq 0 $((MAX_NODES - 1))); do
    tcx -n "ddpnb$i" qdisc del dev eth0 root 2>/dev/null
    local parent=(root handle 1:)
    if [ "$lat" != - ]; then
      local netem=(delay "${lat}ms"); [ "$jit" != - ] && netem+=("${jit}ms"); [ "$loss" != - ] && netem+=(loss "${loss}%")
      tcx -n "ddpnb$i" qdisc replace dev eth0 root handle 1: netem limit 10000 "${netem[@]}" || return 1
      parent=(parent 1:1 handle 10:)
    fi
    if [ "$rate" != - ]; then
      tcx -n "ddpnb$i" qdisc replace dev eth0 "${parent[@]}" tbf rate "${rate}mbit" burst "$(tbf_burst "$rate")" latency 50ms || return 1
    fi
  done
}

# ---- what each configuration runs ---------------------------------------------------------------------------------
if [ "$dry" = 1 ]; then
  device=(--device cpu)
  MLP="--model mlp --input-dim 64 --hidden 256 --depth 2 --classes 10 --batch-size 64 --lr 1e-3"
  TF="--model transformer --vocab 256 --seq-len 32 --d-model 64 --n-layers 2 --n-heads 4 --dropout 0.0 --batch-size 8 --lr 3e-4"
else
  device=(--device cuda)
  # The README's GPU figures (training/gpu_figures.sh): a 54.6M-parameter MLP and a 117M-parameter transformer.
  MLP="--model mlp --input-dim 1024 --hidden 4096 --depth 4 --classes 10 --batch-size 1024 --lr 1e-3"
  TF="--model transformer --vocab 8192 --seq-len 512 --d-model 1024 --n-layers 8 --n-heads 16 --dropout 0.0 --batch-size 32 --bf16 --lr 3e-4 --warmup-steps 20"
fi
# Per speed class: bench sizes, timed iterations, steps of each model, launch timeout, expected seconds (for the budget).
# At 100 Mbit/s only the bandwidth is measured: DDP's initial broadcast plus one step of gradients is 2 x 218 MB for
# the MLP and 2 x 472 MB for the transformer, about 2.5 min for both models, more than the 10-minute call allows;
# there a step is the gradient bytes / link rate (at 1gbe the step times are 97% communication).
phases() {  # phases CLASS -> the suite's phase arguments
  local sizes iters warm mlp tf
  case "$1" in
    fast)  sizes=1M,16M,256M iters=10 warm=2 mlp=25 tf=15 ;;
    bw)    sizes=16M,256M    iters=10 warm=2 mlp=0  tf=0 ;;
    10g)   sizes=16M,256M    iters=8  warm=1 mlp=20 tf=12 ;;
    1g)    sizes=256M        iters=3  warm=1 mlp=5  tf=4 ;;
    100m)  sizes=16M         iters=3  warm=1 mlp=0  tf=0 ;;  # training: minutes (see below)
    sweep) sizes=64M,256M    iters=8  warm=2 mlp=0  tf=0 ;;
  esac
  [ "$dry" = 1 ] && sizes=1M,4M
  echo "@bench ${device[*]} --bench --bench-sizes $sizes --bench-iters $iters --bench-warmup $warm"
  [ "$mlp" -gt 0 ] && echo "@mlp ${device[*]} $MLP --steps $mlp --log-every 5 --checkpoint-every 1000"
  [ "$tf" -gt 0 ] && echo "@tf ${device[*]} $TF --steps $tf --log-every 5 --checkpoint-every 1000"
}
limit_of() { case "$1" in fast) echo 150 ;; bw) echo 90 ;; 10g) echo 150 ;; 1g) echo 200 ;; 100m) echo 120 ;; sweep) echo 90 ;; esac; }
# Seconds each class took on 2x H200 (launch ~12 s), so that the budget check is realistic.
cost_of() { case "$1" in fast) echo 35 ;; bw) echo 14 ;; 10g) echo 45 ;; 1g) echo 75 ;; 100m) echo 25 ;; sweep) echo 14 ;; esac; }

export NCCL_DEBUG="${NCCL_DEBUG:-INFO}" NCCL_DEBUG_SUBSYS="${NCCL_DEBUG_SUBSYS:-INIT,NET,ENV}"
SOCKET_VARS=(NCCL_NSOCKS_PERTHREAD NCCL_SOCKET_NTHREADS NCCL_BUFFSIZE NCCL_MIN_NCHANNELS NCCL_MAX_NCHANNELS)
unset_sockets=(); for v in "${SOCKET_VARS[@]}"; do unset_sockets+=(-u "$v"); done

# run LABEL CLASS NODES GPUS CPUS SETTINGS: NODES simulated nodes (node i on GPU ${GPUS[i]}, comma list), SETTINGS =
# "defaults" or VAR=VALUE,...; CPUS = "-" or a taskset CPU list for every process. NODES=native: one host, torchrun
# --standalone, one process per GPU in GPUS. Records the label in $work/runs/order.
run() {
  local label="$1" class="$2" nodes="$3" gpus="$4" cpus="$5" settings="$6"
  local dir="$work/runs/$label" limit cost
  if [ -n "${DDPSIM_BENCH_ONLY:-}" ] && [[ ",$DDPSIM_BENCH_ONLY," != *",$label,"* ]]; then return 0; fi
  limit=$(limit_of "$class") cost=$(cost_of "$class")
  if [ $(( $(elapsed) + cost )) -gt "$budget" ]; then
    say "SKIP $label: ${cost}s expected, $(( budget - $(elapsed) ))s of the budget left"
    echo "$label skipped" >> "$work/runs/order"; return 0
  fi
  mkdir -p "$dir"
  local extra=(); [ "$settings" != defaults ] && extra=(${settings//,/ })
  local pin=(); [ "$cpus" != - ] && pin=(taskset -c "$cpus")
  local args; args=$(phases "$class" | tr '\n' ' ')
  local suite="$here/gpu_node_suite.py" start=$(date +%s)
  say "RUN $label: $nodes node(s), GPUs $gpus, CPUs $cpus, settings $settings, class $class"
  if [ "$nodes" = native ]; then
    local n; n=$(awk -F, '{print NF}' <<< "$gpus")
    timeout -k 15 "$limit" "${wrap[@]}" env "${unset_sockets[@]}" "${extra[@]}" CUDA_VISIBLE_DEVICES="$gpus" \
      PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 \
      "${pin[@]}" python3 -m torch.distributed.run --standalone --nproc-per-node "$n" \
      "$suite" --out "$dir" $args > "$dir/node0.log" 2>&1
    echo "$?" > "$dir/rc"
  else
    local -a gpu_of pids=(); IFS=, read -r -a gpu_of <<< "$gpus"
    local i
    for i in $(seq 0 $((nodes - 1))); do
      # As a container: env from components/plan/plan.ts, command from launch.ts torchrunCommand.
      timeout -k 15 "$limit" "${ip_env[@]}" "$IP" netns exec "ddpnb$i" \
        env "${restore_ld[@]}" unshare --uts --mount sh -c \
          'mount --bind "$1" "$2/etc/hosts" && echo "$3" > /proc/sys/kernel/hostname && shift 3 && exec "$@"' \
          sh "$work/hosts/hosts" "$root" "node$i" \
        "${wrap[@]}" env "${unset_sockets[@]}" "${extra[@]}" CUDA_VISIBLE_DEVICES="${gpu_of[$i]}" \
          PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 NCCL_SOCKET_IFNAME=eth0 GLOO_SOCKET_IFNAME=eth0 \
          TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 NODE_RANK="$i" NNODES="$nodes" MASTER_ADDR=node0 MASTER_PORT=29500 \
        "${pin[@]}" python3 -m torch.distributed.run --nnodes "$nodes" --nproc-per-node 1 --rdzv-backend c10d \
          --rdzv-endpoint node0:29500 --rdzv-id "ddpnb-$label" --max-restarts 3 \
          "$suite" --out "$dir" $args > "$dir/node$i.log" 2>&1 &
      pids+=($!)
    done
    local rc=0 pid; for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
    echo "$rc" > "$dir/rc"
  fi
  echo $(( $(date +%s) - start )) > "$dir/seconds"
  find "$dir" -name 'ckpt-*' -delete  # the trainer's final checkpoints: large, and not measured
  echo "$label ran" >> "$work/runs/order"
  printf '%s\n' "label=$label" "class=$class" "nodes=$nodes" "gpus=$gpus" "cpus=$cpus" "settings=$settings" \
    "rate=${RATE:--}" "profile=${PROFILE:--}" > "$dir/config"
  local bw; bw=$(grep -h '"bytes": 268435456,' "$dir/node0.log" | grep -o '"busbw_gbps": [0-9.]*' | grep -o '[0-9.]*$' | tail -1)
  say "END $label: rc $(cat "$dir/rc"), $(( $(date +%s) - start ))s${bw:+, busbw 256M $bw Gbit/s}; $(grep -h -o 'NET/Socket : Using[^;]*' "$dir/node0.log" | head -1)"
  grep -h -E 'NCCL_(NSOCKS_PERTHREAD|SOCKET_NTHREADS|BUFFSIZE|MIN_NCHANNELS) set|Channel 0./.* via NET|NET/Socket : [0-9]' "$dir/node0.log" | sort -u | head -4
}

# ---- the machine --------------------------------------------------------------------------------------------------
say "== machine ($(date -u +%Y-%m-%dT%H:%MZ))"
nvidia-smi -L 2>/dev/null; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null
nvidia-smi topo -m 2>/dev/null | head -4
"${wrap[@]}" python3 -c "import torch, sys; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'nccl', torch.cuda.nccl.version() if torch.cuda.is_available() else '-', 'python', sys.version.split()[0])"
echo "cpus $(nproc), kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
env | grep -E '^(NCCL|TORCH|NVSHMEM|CUDA)_' | sort
net_up || { echo "gpu_node_bench: could not build the namespaces and the bridge" >&2; exit 1; }
say "4 nodes: namespaces ddpnb0..3, veth eth0 on bridge $BRIDGE, $SUBNET.10-13, hostnames node0..3"
netem=no
if tcx -n ddpnb3 qdisc add dev eth0 root netem delay 1ms 2>"$work/netem.err"; then netem=yes; tcx -n ddpnb3 qdisc del dev eth0 root; fi
say "netem: $netem $(cat "$work/netem.err")"
gpus2=0,1; [ "$dry" = 1 ] && gpus2=0,0

# ours SETTINGS for NODES nodes: the rule of components/plan/ncclSockets.ts (a unit test keeps the two equal).
ours() { echo "NCCL_NSOCKS_PERTHREAD=2,NCCL_SOCKET_NTHREADS=4,NCCL_MIN_NCHANNELS=4"; }

if [ "$mode" = sweep ]; then
  combos="defaults 1x4 2x2 2x4 2x8 4x2 4x4 2x4+buf16M 2x4+ch4"
  settings_of() {
    case "$1" in
      defaults) echo defaults ;;
      *+buf16M) settings_of "${1%+*}" | sed 's/$/,NCCL_BUFFSIZE=16777216/' ;;
      *+ch4) settings_of "${1%+*}" | sed 's/$/,NCCL_MIN_NCHANNELS=4/' ;;
      *x*) echo "NCCL_NSOCKS_PERTHREAD=${1%x*},NCCL_SOCKET_NTHREADS=${1#*x}" ;;
    esac
  }
  run native fast native "$gpus2" - defaults
  run "n2-suite-2x4" fast 2 "$gpus2" - "$(settings_of 2x4)"
  # Round 1 of every combination, 4 nodes, the fast profiles, further rounds, then 8 CPUs only (taskset).
  for c in $combos; do run "n2-$c-r1" sweep 2 "$gpus2" - "$(settings_of "$c")"; done
  for c in defaults 1x4 2x2 2x4 4x4; do run "n4-$c" sweep 4 0,1,0,1 - "$(settings_of "$c")"; done
  shape 25000 && RATE=25000 PROFILE=25gbe run "n2-25gbe-2x4" sweep 2 "$gpus2" - "$(settings_of 2x4)"
  shape 100000 && RATE=100000 PROFILE=100gbe run "n2-100gbe-2x4" sweep 2 "$gpus2" - "$(settings_of 2x4)"
  shape -
  for r in $(seq 2 "${DDPSIM_SWEEP_ROUNDS:-2}"); do
    for c in $combos; do run "n2-$c-r$r" sweep 2 "$gpus2" - "$(settings_of "$c")"; done
  done
  for c in defaults 1x4 2x4 4x4; do run "n2cpu8-$c" sweep 2 "$gpus2" 0-7 "$(settings_of "$c")"; done
elif [ "$mode" = cpus ]; then
  # Smaller hosts: every process of both nodes pinned to the CPU sets of DDPSIM_BENCH_CPU_SETS (default 0-7 0-15),
  # NCCL's socket defaults and ours alternating, DDPSIM_BENCH_ROUNDS rounds; then the 100mbit profile, bandwidth only.
  for r in $(seq 1 "$rounds"); do
    for cpus in ${DDPSIM_BENCH_CPU_SETS:-0-7 0-15}; do
      n=$(( ${cpus#*-} - ${cpus%-*} + 1 ))
      run "cpu$n-defaults-$r" bw 2 "$gpus2" "$cpus" defaults
      run "cpu$n-ours-$r" bw 2 "$gpus2" "$cpus" "$(ours 2)"
    done
  done
  shape 100 && RATE=100 PROFILE=100mbit run 100mbit 100m 2 "$gpus2" - "$(ours 2)"
  shape -
else
  run native fast native "$gpus2" - defaults
  # Alternating: defaults, ours, defaults, ours, ... (round 1 also trains both models; later rounds bench only).
  for r in $(seq 1 "$rounds"); do
    class=fast; [ "$r" -gt 1 ] && class=bw
    run "defaults-$r" "$class" 2 "$gpus2" - defaults
    run "ours-$r" "$class" 2 "$gpus2" - "$(ours 2)"
  done
  for p in 100gbe:100000:fast 25gbe:25000:fast 10gbe:10000:10g 1gbe:1000:1g; do
    IFS=: read -r name rate class <<< "$p"
    shape "$rate" && RATE=$rate PROFILE=$name run "$name" "$class" 2 "$gpus2" - "$(ours 2)"
  done
  shape -
  run share2 fast 2 0,0 - "$(ours 2)"
  run share4 fast 4 0,0,0,0 - "$(ours 4)"
  shape 100 && RATE=100 PROFILE=100mbit run 100mbit 100m 2 "$gpus2" - "$(ours 2)"
  if [ "$netem" = yes ]; then
    shape 1000 1 0.5 0.1 && RATE=1000 PROFILE=congested run congested 1g 2 "$gpus2" - "$(ours 2)"
  fi
  shape -
  # A smaller host: every process of both nodes on 8 CPUs (if the budget allows).
  run cpu8-defaults bw 2 "$gpus2" 0-7 defaults
  run cpu8-ours bw 2 "$gpus2" 0-7 "$(ours 2)"
fi

say "== summary"
python3 "$here/gpu_node_summary.py" "$work/runs" "$mode" "$netem" | tee "$out/summary.txt"
cp "$work/runs/summary.json" "$out/summary.json" 2>/dev/null
tar -C "$work" --exclude 'ckpt-*' -czf "$out/runs.tar.gz" runs
say "done; files in $out"
