"""Batches that depend only on (seed, step, micro-batch) and a GLOBAL batch size, never on the world size.

Every optimizer step draws one global batch of `global_batch` samples per micro-batch; rank r of W takes the
samples [r*G//W, (r+1)*G//W). A run that continues at another world size (elastic training: a node lost or back)
therefore trains on exactly the same samples, and `loss_scale` weighs each rank's share so that DDP's average of
the ranks' gradients is the mean over the global batch even when G is not a multiple of W.

Synthetic by default (no files needed); with --data-dir, .npy files written by make_dataset.py (or your own):
  mlp:         inputs.npy (float32 [N, features]) and targets.npy (int64 [N], class ids)
  transformer: tokens.npy (int64 [N, seq_len + 1]); the model predicts tokens[:, 1:] from tokens[:, :-1]
Files are read in a global order, reshuffled every epoch (a permutation drawn from the seed and the epoch).
"""
import os

import numpy as np
import torch

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


def shard(global_batch, rank, world_size):
    """The [start, end) of rank's samples in a global batch: as even as it gets, every sample exactly once."""
    return global_batch * rank // world_size, global_batch * (rank + 1) // world_size


class SyntheticBatches:
    """A learnable task drawn fresh for every (step, micro), right on the training device: a fixed random teacher
    labels the inputs (mlp), or each token's successor is fixed by a random permutation (transformer). Each rank
    draws the whole global batch (a few kilobytes) and keeps its share."""

    def __init__(self, args, global_batch, start, end, device):
        self.model, self.seed, self.global_batch, self.start, self.end = args.model, args.seed, global_batch, start, end
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
        g = generator(self.seed, step, micro, device=self.device)
        if self.model == "mlp":
            x = torch.randn(self.global_batch, self.shape["input_dim"], generator=g, device=self.device)
            x = x[self.start:self.end]
            return x, (x @ self.teacher).argmax(dim=1)
        first = torch.randint(0, self.shape["vocab"], (self.global_batch,), generator=g, device=self.device)
        tokens = self.chain[:, first[self.start:self.end]].t().contiguous().long()  # [batch, seq_len + 1]
        return tokens[:, :-1], tokens[:, 1:]


class DirectoryBatches:
    """Samples from .npy files: one permutation of all samples per epoch (from the seed), cut into global batches,
    each split across the ranks. drop_last: an epoch is count // global_batch batches."""

    def __init__(self, args, global_batch, start, end):
        self.model, self.seed, self.global_batch, self.start, self.end = args.model, args.seed, global_batch, start, end
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
        self.count = count
        self.batches_per_epoch = count // global_batch
        if self.batches_per_epoch < 1:
            raise ValueError(f"{args.data_dir}: {count} samples are fewer than one global batch of {global_batch}")
        self._epoch, self._order = None, None

    def batch(self, step, micro, grad_accum):
        index = step * grad_accum + micro  # global micro-batch counter: epoch and offset follow from it
        epoch, offset = divmod(index, self.batches_per_epoch)
        if epoch != self._epoch:
            self._epoch, self._order = epoch, torch.randperm(self.count, generator=generator(self.seed, 0xE90C, epoch)).numpy()
        base = offset * self.global_batch
        rows = np.sort(self._order[base + self.start:base + self.end])
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
    """One interface for both sources: batch(step, micro) -> (inputs, targets), this rank's share of the global
    batch; synthetic ones already on the device, files' on the CPU. `loss_scale` turns the sum of this rank's
    per-sample losses into its part of the global mean, as DDP averages over the ranks."""

    def __init__(self, args, rank, world_size, device, global_batch):
        if global_batch < world_size:
            raise ValueError(f"a global batch of {global_batch} samples cannot be split across {world_size} ranks")
        self.grad_accum, self.global_batch = args.grad_accum, global_batch
        start, end = shard(global_batch, rank, world_size)
        self.local_batch = end - start
        self.loss_scale = world_size / (global_batch * args.grad_accum)
        if args.data_dir:
            self.source = DirectoryBatches(args, global_batch, start, end)
        else:
            self.source = SyntheticBatches(args, global_batch, start, end, device)
        self.shape = self.source.shape
        self.kind = "directory" if args.data_dir else "synthetic"

    def batch(self, step, micro):
        if isinstance(self.source, DirectoryBatches):
            return self.source.batch(step, micro, self.grad_accum)
        return self.source.batch(step, micro)
