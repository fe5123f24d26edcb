"""Batches that depend only on (seed, step, micro-batch, rank), so a resumed run sees exactly the same data.

Synthetic by default (no files needed); with --data-dir, .npy files written by make_dataset.py (or your own):
  mlp:         inputs.npy (float32 [N, features]) and targets.npy (int64 [N], class ids)
  transformer: tokens.npy (int64 [N, seq_len + 1]); the model predicts tokens[:, 1:] from tokens[:, :-1]
"""
import os

import numpy as np
import torch
from torch.utils.data import DistributedSampler

_MIX = 1_000_003
_MASK = (1 << 63) - 1


def mix_seed(*parts):
    value = 0
    for part in parts:
        value = (value * _MIX + int(part) + 1) & _MASK
    return value


def generator(*parts, device="cpu"):
    g = torch.Generator(device=device)
    g.manual_seed(mix_seed(*parts))
    return g


class SyntheticBatches:
    """A learnable task drawn fresh for every (step, micro, rank), right on the training device: a fixed random
    teacher labels the inputs (mlp), or each token's successor is fixed by a random permutation (transformer)."""

    def __init__(self, args, rank, device):
        self.model, self.rank, self.seed, self.batch_size = args.model, rank, args.seed, args.batch_size
        self.device = device
        teacher = generator(args.seed, 0xDA7A)  # on the CPU: the same task on every rank and device
        if args.model == "mlp":
            self.shape = {"input_dim": args.input_dim, "classes": args.classes}
            self.teacher = torch.randn(args.input_dim, args.classes, generator=teacher).to(device)
        else:
            self.shape = {"vocab": args.vocab, "seq_len": args.seq_len}
            successor = torch.randperm(args.vocab, generator=teacher)
            chain = [torch.arange(args.vocab)]  # chain[t][v]: the token t places after v
            for _ in range(args.seq_len):
                chain.append(successor[chain[-1]])
            self.chain = torch.stack(chain).to(torch.int32).to(device)

    def batch(self, step, micro):
        g = generator(self.seed, step, micro, self.rank, device=self.device)
        if self.model == "mlp":
            x = torch.randn(self.batch_size, self.shape["input_dim"], generator=g, device=self.device)
            return x, (x @ self.teacher).argmax(dim=1)
        start = torch.randint(0, self.shape["vocab"], (self.batch_size,), generator=g, device=self.device)
        tokens = self.chain[:, start].t().contiguous().long()  # [batch, seq_len + 1]
        return tokens[:, :-1], tokens[:, 1:]


class _Length:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


class DirectoryBatches:
    """Samples from .npy files, split across ranks by DistributedSampler; set_epoch reshuffles each epoch."""

    def __init__(self, args, rank, world_size):
        self.model, self.batch_size = args.model, args.batch_size
        if args.model == "mlp":
            self.inputs = np.load(_path(args.data_dir, "inputs.npy"), mmap_mode="r", allow_pickle=False)
            self.targets = np.load(_path(args.data_dir, "targets.npy"), mmap_mode="r", allow_pickle=False)
            if self.inputs.ndim != 2 or self.targets.shape != (self.inputs.shape[0],):
                raise ValueError(f"{args.data_dir}: expected inputs [N, features] and targets [N]")
            self.shape = {"input_dim": int(self.inputs.shape[1]), "classes": int(self.targets.max()) + 1}
            count = self.inputs.shape[0]
        else:
            self.tokens = np.load(_path(args.data_dir, "tokens.npy"), mmap_mode="r", allow_pickle=False)
            if self.tokens.ndim != 2 or self.tokens.shape[1] < 2:
                raise ValueError(f"{args.data_dir}: expected tokens [N, seq_len + 1]")
            self.shape = {"vocab": int(self.tokens.max()) + 1, "seq_len": int(self.tokens.shape[1]) - 1}
            count = self.tokens.shape[0]
        self.sampler = DistributedSampler(
            _Length(count), num_replicas=world_size, rank=rank, shuffle=True, seed=args.seed, drop_last=True
        )
        self.batches_per_epoch = len(self.sampler) // self.batch_size
        if self.batches_per_epoch < 1:
            raise ValueError(
                f"{args.data_dir}: {count} samples give {len(self.sampler)} per rank, fewer than --batch-size {self.batch_size}"
            )
        self._epoch, self._indices = None, None

    def batch(self, step, micro, grad_accum):
        index = step * grad_accum + micro  # global micro-batch counter: epoch and offset follow from it
        epoch, offset = divmod(index, self.batches_per_epoch)
        if epoch != self._epoch:
            self.sampler.set_epoch(epoch)
            self._epoch, self._indices = epoch, list(self.sampler)
        rows = np.sort(np.asarray(self._indices[offset * self.batch_size:(offset + 1) * self.batch_size]))
        if self.model == "mlp":
            return torch.from_numpy(np.array(self.inputs[rows], dtype=np.float32)), torch.from_numpy(
                np.array(self.targets[rows], dtype=np.int64)
            )
        tokens = torch.from_numpy(np.array(self.tokens[rows], dtype=np.int64))
        return tokens[:, :-1], tokens[:, 1:]


def _path(directory, name):
    path = os.path.join(directory, name)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--data-dir {directory}: {name} is missing (see make_dataset.py)")
    return path


class Batches:
    """One interface for both sources: batch(step, micro) -> (inputs, targets), synthetic ones already on the
    device, files' on the CPU."""

    def __init__(self, args, rank, world_size, device):
        self.grad_accum = args.grad_accum
        if args.data_dir:
            self.source = DirectoryBatches(args, rank, world_size)
        else:
            self.source = SyntheticBatches(args, rank, device)
        self.shape = self.source.shape
        self.kind = "directory" if args.data_dir else "synthetic"

    def batch(self, step, micro):
        if isinstance(self.source, DirectoryBatches):
            return self.source.batch(step, micro, self.grad_accum)
        return self.source.batch(step, micro)
