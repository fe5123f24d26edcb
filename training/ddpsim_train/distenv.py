"""torchrun's environment, read once, and the process group's setup and teardown."""
import datetime
import os
import sys
import threading
from dataclasses import dataclass

import torch
import torch.distributed as dist

EXIT_USAGE = 2
REQUIRED = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclass(frozen=True)
class DistEnv:
    rank: int
    world_size: int
    local_rank: int
    local_world_size: int
    group_rank: int  # torchrun's node index for this rendezvous round
    node_rank: str  # NODE_RANK as the cluster set it (may differ from group_rank under c10d)
    master_addr: str
    master_port: str
    restart_count: int  # how many times torchrun restarted the workers
    run_id: str

    @property
    def is_main(self):
        return self.rank == 0

    def tag(self):
        return f"[rank {self.rank}/{self.world_size} node {self.group_rank}]"


def read_env(environ=None):
    """Reads torchrun's variables once; exits 2 with one clear line when they are missing."""
    env = os.environ if environ is None else environ
    missing = [name for name in REQUIRED if name not in env]
    if missing:
        print(
            f"error: train_ddp.py must be started by torchrun ({', '.join(missing)} not set), e.g. "
            "torchrun --nproc-per-node 2 train_ddp.py --steps 100",
            file=sys.stderr,
            flush=True,
        )
        sys.exit(EXIT_USAGE)
    return DistEnv(
        rank=int(env["RANK"]),
        world_size=int(env["WORLD_SIZE"]),
        local_rank=int(env["LOCAL_RANK"]),
        local_world_size=int(env.get("LOCAL_WORLD_SIZE", "1")),
        group_rank=int(env.get("GROUP_RANK", "0")),
        node_rank=env.get("NODE_RANK", ""),
        master_addr=env.get("MASTER_ADDR", ""),
        master_port=env.get("MASTER_PORT", ""),
        restart_count=int(env.get("TORCHELASTIC_RESTART_COUNT", "0")),
        run_id=env.get("TORCHELASTIC_RUN_ID", ""),
    )


def warn_about_shared_store(denv, environ=None):
    """torch >= 2.5 shares torchrun's rendezvous store with the workers; keys left by a failed attempt then break
    the next one (gloo: "connectFullMesh failed"; pytorch#135712), so --max-restarts cannot work. The ddpsim images
    set TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1, which gives each attempt a fresh store."""
    env = os.environ if environ is None else environ
    shared = env.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
    if denv.is_main and shared and int(env.get("TORCHELASTIC_MAX_RESTARTS", "0")) > 0:
        print(f"{denv.tag()} warning: workers share torchrun's rendezvous store, so a worker restart can fail "
              "(pytorch#135712); set TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 in torchrun's environment",
              file=sys.stderr, flush=True)


def choose_device(requested, denv):
    """CUDA when asked for or visible, else CPU. With one GPU per container the index is 0."""
    if requested == "cpu" or (requested == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError("--device cuda was requested but no CUDA device is visible")
    count = torch.cuda.device_count()
    if denv.local_world_size > count:
        print(f"{denv.tag()} warning: {denv.local_world_size} processes share {count} GPU(s)", file=sys.stderr)
    return torch.device("cuda", denv.local_rank % count)


def choose_backend(requested, device):
    if requested != "auto":
        return requested
    return "nccl" if device.type == "cuda" else "gloo"


# How long the other ranks wait for rank 0 to write a checkpoint. The collective timeout is short on purpose (it is
# how a hung or cut-off peer is noticed), but a large checkpoint on a slow disk can take minutes.
SAVE_WAIT_SECONDS = 1800
_save_group = None


def init_process_group(backend, device, timeout_seconds):
    global _save_group
    if device.type == "cuda":
        torch.cuda.set_device(device)  # before init_process_group, so NCCL binds the right GPU
    dist.init_process_group(backend=backend, timeout=datetime.timedelta(seconds=timeout_seconds))
    _save_group = dist.new_group(timeout=datetime.timedelta(seconds=max(timeout_seconds, SAVE_WAIT_SECONDS)))


def barrier(device, group=None):
    if dist.get_backend() == "nccl":
        dist.barrier(group=group, device_ids=[device.index])
    else:
        dist.barrier(group=group)


def wait_for_save(device):
    """Every rank waits here until rank 0 has written its checkpoint, under SAVE_WAIT_SECONDS rather than the
    collective timeout."""
    barrier(device, _save_group)


def destroy_process_group(succeeded, device, exit_code):
    """Every path ends here. After success, a barrier first, so no rank tears down while a peer still talks.

    gloo's teardown can still block forever once a peer is gone (seen with torch 2.6 under load), and a
    worker stuck there would keep torchrun from noticing anything: past grace_seconds it exits exit_code.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return
    if succeeded:
        barrier(device)
    watchdog = threading.Timer(30 if succeeded else 10, _exit_now, args=(exit_code,))
    watchdog.daemon = True
    watchdog.start()
    dist.destroy_process_group()
    watchdog.cancel()


def _exit_now(exit_code):
    print(f"warning: destroy_process_group did not return; exiting {exit_code} anyway", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(exit_code)
