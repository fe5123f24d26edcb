"""--bench: all-reduce latency and bandwidth over a range of message sizes, as nccl-tests reports them.

algbw = bytes / time; busbw = algbw * 2 (n - 1) / n (the traffic each link carries in a ring all-reduce),
so busbw is comparable to the link's line rate whatever the world size. Units: gigabits per second.
"""
import json
import os
import sys
import time

import torch
import torch.distributed as dist

from .distenv import barrier
from .metrics import BENCH_PREFIX, write_json_atomic


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(size_bytes, iters, warmup, device):
    """Seconds per all-reduce of a float32 tensor of size_bytes, as seen by the slowest rank."""
    tensor = torch.zeros(max(1, size_bytes // 4), dtype=torch.float32, device=device)
    for _ in range(warmup):
        dist.all_reduce(tensor)
    _sync(device)
    barrier(device)
    start = time.perf_counter()
    for _ in range(iters):
        dist.all_reduce(tensor)
    _sync(device)
    elapsed = torch.tensor([time.perf_counter() - start], dtype=torch.float64, device=device)
    dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
    return elapsed.item() / iters, tensor.numel() * 4


def run(args, denv, device, backend, nodes):
    world = dist.get_world_size()
    factor = 2.0 * (world - 1) / world
    rows = []
    if denv.is_main:
        print(f"all-reduce benchmark: world {world} ({nodes} node(s)), backend {backend}, device {device.type}, "
              f"float32, {args.bench_iters} iterations after {args.bench_warmup} warm-up", flush=True)
        print(f"{'bytes':>12} {'latency_us':>12} {'algbw_gbps':>12} {'busbw_gbps':>12}", flush=True)
    for size in args.bench_sizes:
        seconds, nbytes = measure(size, args.bench_iters, args.bench_warmup, device)
        algbw = nbytes * 8 / seconds / 1e9
        row = {
            "bytes": nbytes,
            "latency_us": round(seconds * 1e6, 2),
            "algbw_gbps": round(algbw, 4),
            "busbw_gbps": round(algbw * factor, 4),
            "world_size": world,
            "nodes": nodes,
            "backend": backend,
            "device": device.type,
            "iters": args.bench_iters,
        }
        rows.append(row)
        if denv.is_main:
            print(f"{nbytes:>12} {row['latency_us']:>12.1f} {row['algbw_gbps']:>12.3f} {row['busbw_gbps']:>12.3f}",
                  flush=True)
    if denv.is_main:
        for row in rows:
            print(f"{BENCH_PREFIX} {json.dumps(row, sort_keys=True)}", flush=True)
        try:
            os.makedirs(args.checkpoint_dir, exist_ok=True)
            write_json_atomic(os.path.join(args.checkpoint_dir, "bench.json"), rows)
        except OSError as error:
            print(f"{denv.tag()} warning: bench.json not written: {error}", file=sys.stderr, flush=True)
    return rows
