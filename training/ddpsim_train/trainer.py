"""The training loop: resume, train, checkpoint, stop on request, and agree on the final parameters."""
import contextlib
import hashlib
import json
import os
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

from . import checkpoint
from .data import Batches, mix_seed
from .distenv import wait_for_save
from .metrics import RESULT_PREFIX, MetricsLog, progress_line, write_json_atomic
from .models import build_model, loss_sum
from .stop import wait_for_own_stop

EXIT_DISAGREE = 3


def all_gather_ints(values, device):
    """Every rank's list of ints, on every rank (works on gloo and nccl)."""
    mine = torch.tensor(values, dtype=torch.int64, device=device)
    everyone = [torch.empty_like(mine) for _ in range(dist.get_world_size())]
    dist.all_gather(everyone, mine)
    return [t.tolist() for t in everyone]


def parameter_checksum(module):
    """sha256 over every parameter and persistent buffer, bit for bit; first 15 hex digits (fits int64)."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:15]


def parameter_norm(module):
    """The L2 norm of every floating-point parameter and buffer, in float64: compares runs whose parameters cannot be
    equal bit for bit (another world size sums the gradients in another order) within a tolerance."""
    total = 0.0
    for tensor in module.state_dict().values():
        if tensor.is_floating_point():
            total += float(tensor.detach().double().pow(2).sum())
    return total ** 0.5


class Trainer:
    def __init__(self, args, denv, device, backend):
        self.args, self.denv, self.device, self.backend = args, denv, device, backend
        self.world = dist.get_world_size()
        self.attempt = round(time.time(), 3)  # this attempt's id in metrics.jsonl: when it started
        self.world_sizes_seen = [self.world]
        self.step, self.first_loss, self.last_loss, self.resumed_from = 0, None, None, None
        if denv.is_main:
            checkpoint.remove_stale_temp_files(args.checkpoint_dir)
        snapshot = checkpoint.load_newest_valid(args.checkpoint_dir, denv.tag(), set_aside=denv.is_main)
        self.global_batch = self._global_batch(snapshot[1])
        self.batches = Batches(args, denv.rank, self.world, device, self.global_batch)
        torch.manual_seed(args.seed)  # same initial weights on every rank (DDP also broadcasts rank 0's)
        # Built on the CPU (the same weights whatever the device), then moved before the optimizer exists: a restored
        # optimizer state goes to its parameters' device when it is loaded, and it never moves after that.
        model = build_model(args, self.batches.shape).to(device)
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
        self.raw_model = model
        self._load_snapshot(*snapshot)  # before DDP wraps the model
        self.model = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)
        self.metrics = MetricsLog(args.checkpoint_dir, denv.is_main)

    # -- snapshots ---------------------------------------------------------------------------------
    def _global_batch(self, state):
        """Samples per optimizer step and micro-batch, kept for the whole run: --batch-size x the world size at the
        run's start; a resumed run keeps its checkpoint's, whatever the world size now (elastic training)."""
        if state is None:
            return self.args.batch_size * self.world
        if "global_batch" in state:
            return int(state["global_batch"])
        return self.args.batch_size * int(state.get("world_size") or self.world)  # a checkpoint from before

    def _load_snapshot(self, step, state, path):
        if state is not None:
            self.raw_model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            checkpoint.restore_rng_state(state["rng"], torch.device("cpu"))
            self.step, self.resumed_from = step, step
            self.first_loss, self.last_loss = state.get("first_loss"), state.get("last_loss")
            self.world_sizes_seen = list(state.get("world_sizes", [state.get("world_size")])) + [self.world]
            if self.denv.is_main:
                print(f"[ddpsim] resuming from {path} (step {step})", flush=True)
                if state.get("world_size") != self.world:
                    print(f"[ddpsim] world size {state.get('world_size')} -> {self.world} since that checkpoint: the "
                          f"global batch stays {self.global_batch} samples per micro-batch, now "
                          f"{self.global_batch / self.world:g} per rank on average; same samples, same learning rate",
                          flush=True)

    def _save_snapshot(self):
        """Rank 0 writes the checkpoint; every rank returns once it is on disk."""
        if self.denv.is_main:
            self._write_snapshot()
        wait_for_save(self.device)

    def _write_snapshot(self):
        state = {
            "format": 1,
            "step": self.step,
            "model": self.raw_model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": checkpoint.rng_state(self.device),
            "first_loss": self.first_loss,
            "last_loss": self.last_loss,
            "world_size": self.world,
            "global_batch": self.global_batch,
            "world_sizes": sorted({w for w in self.world_sizes_seen if w}),
            "seed": self.args.seed,
            "model_name": self.args.model,
        }
        return checkpoint.save(self.args.checkpoint_dir, self.step, state, self.args.keep_checkpoints)

    # -- one optimizer step --------------------------------------------------------------------------
    def _lr(self, step):
        warmup = self.args.warmup_steps
        return self.args.lr * min(1.0, step / warmup) if warmup > 0 else self.args.lr

    def _run_batch(self, step):
        """Optimizer step number `step` (1-based). Returns this rank's mean loss as a tensor."""
        args, accum = self.args, self.args.grad_accum
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr(step)
        self.optimizer.zero_grad(set_to_none=True)
        total = torch.zeros((), device=self.device)
        for micro in range(accum):
            inputs, targets = self.batches.batch(step - 1, micro)
            inputs, targets = inputs.to(self.device, non_blocking=True), targets.to(self.device, non_blocking=True)
            torch.manual_seed(mix_seed(args.seed, step, micro, self.denv.rank, 0xD0))  # dropout, resumable
            sync = contextlib.nullcontext() if micro == accum - 1 else self.model.no_sync()
            with sync:
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=args.bf16):
                    logits = self.model(inputs)
                loss = loss_sum(args.model, logits, targets) * self.batches.loss_scale
                loss.backward()
            total += loss.detach()
        self.optimizer.step()
        return total

    # -- the loop --------------------------------------------------------------------------------------
    def train(self, stop):
        args, denv = self.args, self.denv
        seen = all_gather_ints([denv.group_rank, self.step], self.device)
        nodes, steps_seen = len({g for g, _ in seen}), {s for _, s in seen}
        if len(steps_seen) != 1:
            raise RuntimeError(f"ranks resumed from different steps {sorted(steps_seen)}: is --checkpoint-dir shared?")
        if denv.is_main:
            params = sum(p.numel() for p in self.raw_model.parameters())
            print(f"[ddpsim] training {args.model} ({params:,} parameters, {self.batches.kind} data) on world size "
                  f"{self.world} ({nodes} node(s)), backend {self.backend}, device {self.device.type}, "
                  f"steps {self.step + 1}..{args.steps}, restarts {denv.restart_count}", flush=True)
        samples_per_step = self.global_batch * args.grad_accum
        stop.install()  # from here on SIGTERM/SIGINT end the step, checkpoint, exit 0
        started, timed_steps, timed_seconds, stopped_by = time.perf_counter(), 0, 0.0, None
        while self.step < args.steps:
            t0 = time.perf_counter()
            local_loss = self._run_batch(self.step + 1)
            if args.step_sleep:
                time.sleep(args.step_sleep)
            # One small all-reduce per step: the global loss, and whether any rank was asked to stop.
            flags = torch.stack([local_loss.double(), torch.tensor(float(stop.requested), dtype=torch.float64,
                                                                   device=self.device)])
            dist.all_reduce(flags)
            loss, stop_now = flags[0].item() / self.world, flags[1].item() > 0
            step_time = time.perf_counter() - t0 - args.step_sleep
            self.step += 1
            timed_steps, timed_seconds = timed_steps + 1, timed_seconds + step_time
            self.last_loss = loss
            if self.first_loss is None:
                self.first_loss = loss
            if denv.is_main:
                rate = samples_per_step / max(step_time, 1e-9)
                self.metrics.write(step=self.step, loss=round(loss, 6), samples_per_s=round(rate, 2),
                                   step_time_s=round(step_time, 6), world_size=self.world,
                                   restarts=denv.restart_count, attempt=self.attempt)
                if self.step % args.log_every == 0 or self.step == args.steps:
                    print(f"[ddpsim] {progress_line(self.step, args.steps, loss, rate, step_time, self.world)}",
                          flush=True)
            # The last step is saved only once the ranks agree on it (_report_result): a restart must never
            # resume from parameters that no two ranks share.
            if stop_now and args.debug_slow_checkpoint and self.denv.is_main:
                print(f"[ddpsim] stop requested: writing the checkpoint of step {self.step} slowly "
                      f"({args.debug_slow_checkpoint:.0f} s)", flush=True)
                time.sleep(args.debug_slow_checkpoint)
            if stop_now or (self.step % args.checkpoint_every == 0 and self.step < args.steps):
                self._save_snapshot()
            if stop_now:
                stopped_by = stop.signal_name or "a signal on another rank"
                break
        self.metrics.close()
        elapsed = time.perf_counter() - started
        if stopped_by is not None:
            if not stop.requested:
                wait_for_own_stop(stop, self.step, args.peer_stop_wait, denv.tag())
            return self._report_stop(stopped_by)
        return self._report_result(nodes, timed_steps, timed_seconds, elapsed)

    def _report_stop(self, stopped_by):
        if self.denv.is_main:
            info = {"step": self.step, "signal": stopped_by,
                    "checkpoint": os.path.join(self.args.checkpoint_dir, checkpoint.file_name(self.step))}
            print(f"[ddpsim] stopped by {stopped_by} after step {self.step}/{self.args.steps}; "
                  f"checkpoint {info['checkpoint']} written; exiting 0", flush=True)
            print(f"DDPSIM_STOPPED {json.dumps(info, sort_keys=True)}", flush=True)
        return 0

    def _report_result(self, nodes, timed_steps, timed_seconds, elapsed):
        args, denv = self.args, self.denv
        if args.debug_perturb_rank == denv.rank:
            with torch.no_grad():
                next(self.raw_model.parameters()).view(-1)[0] += 1e-3
        mine = parameter_checksum(self.raw_model)
        gathered = all_gather_ints([int(mine, 16), denv.group_rank], self.device)
        checksums = [f"{c:015x}" for c, _ in gathered]
        agree = len(set(checksums)) == 1
        mean_step = timed_seconds / timed_steps if timed_steps else None
        result = {
            "world_size": self.world,
            "nodes": len({g for _, g in gathered}),
            "final_step": self.step,
            "steps": args.steps,
            "checksum": checksums[0],
            "param_norm": parameter_norm(self.raw_model),
            "rank_checksums": checksums,
            "agree": agree,
            "restarts": denv.restart_count,
            "resumed_from_step": self.resumed_from,
            "first_loss": self.first_loss,
            "final_loss": self.last_loss,
            "model": args.model,
            "backend": self.backend,
            "device": self.device.type,
            "data": self.batches.kind,
            "steps_this_run": timed_steps,
            "step_time_s": round(mean_step, 6) if mean_step else None,
            "samples_per_s": round(self.global_batch * args.grad_accum / mean_step, 2) if mean_step else None,
            "global_batch": self.global_batch,
            "world_sizes": sorted({w for w in self.world_sizes_seen if w}),
            "elapsed_s": round(elapsed, 3),
            "torch": torch.__version__,
        }
        if agree and self.resumed_from != self.step:
            self._save_snapshot()
        if denv.is_main:
            verdict = "all ranks agree" if agree else "RANKS DISAGREE"
            print(f"[ddpsim] done: world size {self.world} ({result['nodes']} node(s)), step {self.step}, "
                  f"{verdict} on parameter checksum {checksums[0] if agree else checksums}", flush=True)
            print(f"{RESULT_PREFIX} {json.dumps(result, sort_keys=True)}", flush=True)
            write_json_atomic(os.path.join(args.checkpoint_dir, "result.json"), result)
        if not agree:
            print(f"{denv.tag()} error: parameter checksums differ across ranks: {checksums}", file=sys.stderr,
                  flush=True)
            return EXIT_DISAGREE
        return 0


def refuse_after_disagreement(checkpoint_dir, denv):
    """A run whose ranks ended with different parameters has failed for good: no restart may resume it into a
    success. result.json says so until someone deletes it."""
    path = os.path.join(checkpoint_dir, "result.json")
    try:
        with open(path) as f:
            earlier = json.load(f)
    except (OSError, ValueError):
        return
    if earlier.get("agree") is False:
        print(f"{denv.tag()} error: an earlier attempt of this run ended with ranks disagreeing on the parameters "
              f"({earlier.get('rank_checksums')}); not resuming it. Delete {path} to train again.",
              file=sys.stderr, flush=True)
        sys.exit(EXIT_DISAGREE)
