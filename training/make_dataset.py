#!/usr/bin/env python3
"""Writes a small dataset directory for train_ddp.py --data-dir (numpy .npy files, no pickle):

  python3 make_dataset.py --out /data --model mlp          -> inputs.npy [N, features] float32, targets.npy [N] int64
  python3 make_dataset.py --out /data --model transformer  -> tokens.npy [N, seq_len + 1] int64
"""
import argparse
import os

import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--model", choices=["mlp", "transformer"], default="mlp")
    p.add_argument("--samples", type=int, default=4096)
    p.add_argument("--features", type=int, default=32)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--vocab", type=int, default=64)
    p.add_argument("--seq-len", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    if args.model == "mlp":
        inputs = rng.standard_normal((args.samples, args.features), dtype=np.float32)
        teacher = rng.standard_normal((args.features, args.classes), dtype=np.float32)
        _save(args.out, "inputs.npy", inputs)
        _save(args.out, "targets.npy", (inputs @ teacher).argmax(axis=1).astype(np.int64))
    else:
        successor = rng.permutation(args.vocab)
        tokens = np.empty((args.samples, args.seq_len + 1), dtype=np.int64)
        tokens[:, 0] = rng.integers(0, args.vocab, args.samples)
        for t in range(1, args.seq_len + 1):
            tokens[:, t] = successor[tokens[:, t - 1]]
        _save(args.out, "tokens.npy", tokens)
    print(f"wrote {args.samples} {args.model} samples to {args.out}")


def _save(directory, name, array):
    tmp = os.path.join(directory, f".{name}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, array, allow_pickle=False)
    os.replace(tmp, os.path.join(directory, name))


if __name__ == "__main__":
    main()
