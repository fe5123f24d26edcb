#!/usr/bin/env bash
# The GPU figures of the README: train_ddp.py on NCCL with 2 processes (one per GPU) on one host, the
# transformer and the MLP, a 1-process transformer run for comparison, and the all-reduce benchmark.
# No Docker needed: run it from a checkout on a host with 2 GPUs and torch installed.
#   training/gpu_figures.sh OUT_DIR        (writes logs, metrics and a summary there)
set -uo pipefail
out="${1:?usage: gpu_figures.sh OUT_DIR}"
mkdir -p "$out"
cd "$(dirname "${BASH_SOURCE[0]}")"
export NCCL_NVLS_ENABLE=0 TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 PYTHONUNBUFFERED=1
run="python3 -m torch.distributed.run --standalone"
tf="--model transformer --vocab 8192 --seq-len 512 --d-model 1024 --n-layers 8 --n-heads 16 --dropout 0.0
    --batch-size 32 --bf16 --steps 120 --log-every 20 --checkpoint-every 1000 --lr 3e-4 --warmup-steps 20"
mlp="--model mlp --input-dim 1024 --hidden 4096 --depth 4 --classes 10 --batch-size 1024 --steps 300
     --log-every 50 --checkpoint-every 1000 --lr 1e-3"

{
  echo "== machine"; nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c "import torch, sys; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'nccl', torch.cuda.nccl.version(), 'python', sys.version.split()[0])"
  nvidia-smi topo -m 2>/dev/null | head -4
  echo "== transformer, 2 processes, NCCL"; echo "$run --nproc-per-node 2 train_ddp.py --device cuda --checkpoint-dir /tmp/ck-tf2" $tf
  $run --nproc-per-node 2 train_ddp.py --device cuda --checkpoint-dir /tmp/ck-tf2 $tf
  echo "== transformer, 1 process"; $run --nproc-per-node 1 train_ddp.py --device cuda --checkpoint-dir /tmp/ck-tf1 $tf
  echo "== mlp, 2 processes, NCCL"; echo "$run --nproc-per-node 2 train_ddp.py --device cuda --checkpoint-dir /tmp/ck-mlp2" $mlp
  $run --nproc-per-node 2 train_ddp.py --device cuda --checkpoint-dir /tmp/ck-mlp2 $mlp
  echo "== all-reduce benchmark, 2 processes, NCCL"
  echo "$run --nproc-per-node 2 train_ddp.py --device cuda --bench --checkpoint-dir /tmp/ck-bench --bench-sizes 1K,16K,256K,1M,4M,16M,64M,256M,1G --bench-iters 20"
  $run --nproc-per-node 2 train_ddp.py --device cuda --bench --checkpoint-dir /tmp/ck-bench \
      --bench-sizes 1K,16K,256K,1M,4M,16M,64M,256M,1G --bench-iters 20
} 2>&1 | tee "$out/log.txt"

cp /tmp/ck-tf2/metrics.jsonl "$out/tf2.jsonl"; cp /tmp/ck-tf1/metrics.jsonl "$out/tf1.jsonl"
cp /tmp/ck-mlp2/metrics.jsonl "$out/mlp2.jsonl"; cp /tmp/ck-bench/bench.json "$out/bench.json"
python3 - "$out" <<'EOF' | tee "$out/summary.txt"
import json, statistics, sys
out = sys.argv[1]
for name, seq in (("tf2", 512), ("tf1", 512), ("mlp2", 1)):
    rows = [json.loads(l) for l in open(f"{out}/{name}.jsonl")]
    steady = [r for r in rows if r["step"] > 10]  # past CUDA warm-up
    t = statistics.median(r["step_time_s"] for r in steady)
    s = statistics.median(r["samples_per_s"] for r in steady)
    extra = f", {s * seq:,.0f} tokens/s" if seq > 1 else ""
    print(f"{name}: world {rows[-1]['world_size']}, median step {t * 1000:.1f} ms, {s:,.0f} samples/s{extra} "
          f"(steps 11..{rows[-1]['step']}), loss {rows[0]['loss']:.3f} -> {rows[-1]['loss']:.3f}")
EOF
