# ddpsim check's launcher: runs a training script unchanged and reports what every rank ended with.
"""Started by torchrun on every node of a `ddpsim check` run (stack setting `checkHooks: true`) in place of the
script, from ddpsim's node files, as

    torchrun ... --no-python python3 -u /opt/ddpsim/check_launcher.py --script /code/train.py ARGS...
    torchrun ... --no-python python3 -u /opt/ddpsim/check_launcher.py --module pkg.train ARGS...

It runs the script exactly as `python3 train.py ARGS` or `python3 -m pkg.train ARGS` would (runpy: `__main__`,
`sys.argv`, `sys.path[0]`; a sitecustomize or .pth file of the script's own is imported at interpreter start as
usual, since this is a launcher and not a sitecustomize), after hooks that leave the script's code and files alone:
  1. DistributedDataParallel: every module the script wraps is remembered, every forward pass counted (a "step");
  2. init_process_group without a timeout gets DDPSIM_COLLECTIVE_TIMEOUT_SECONDS, so that a collective whose peer
     never comes fails after that long instead of torch's 30 minutes (gloo) and the check can say so;
  3. when the script ends (returns, raises, or calls sys.exit), one line on stdout:
     DDPSIM_CHECK {"event": "exit" | "error", "rank", "worldSize", "steps", "modules": [{"type", "checksum", ...}], ...}
     with a sha256 checksum of each wrapped module's parameters and buffers, bit for bit;
  4. faulthandler: a rank killed by a fatal signal (an abort inside a collective) prints its Python stack.
A hold for the lost-node run: with DDPSIM_CHECK_HOLD_STEP=k and DDPSIM_CHECK_HOLD_NODE=n, local rank 0 of node n
stops before its k-th step, once per deployment, prints `DDPSIM_CHECK {"event": "hold", ...}` and waits (at most
DDPSIM_CHECK_HOLD_SECONDS) for the check to kill the node there.
"""
import datetime
import faulthandler
import functools
import hashlib
import json
import os
import runpy
import sys
import time

MARKER = "DDPSIM_CHECK"
# Docker splits log lines longer than 16 KiB: the report line stays well below that.
MAX_STEP_TIMES = 300
MAX_TENSORS = 64
MAX_MODULES = 16


def env_int(name, default=None):
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return default


class Report:
    """What this process saw: the wrapped modules, the steps and when each began (seconds after `started`)."""

    def __init__(self):
        self.modules = []
        self.steps = 0
        self.step_times = []
        self.thin = 1  # keep every thin-th step time, doubled whenever the list is full
        self.started = time.time()
        self.first_step = None  # seconds after `started` when step 1 began

    def on_step(self):
        self.steps += 1
        if self.steps == 1:
            self.first_step = round(time.time() - self.started, 2)
        if self.steps % self.thin == 0:
            self.step_times.append(round(time.time() - self.started, 2))
            if len(self.step_times) >= MAX_STEP_TIMES:
                self.step_times = self.step_times[::2]
                self.thin *= 2

    def emit(self, event, **extra):
        record = {
            "event": event,
            "rank": env_int("RANK"),
            "worldSize": env_int("WORLD_SIZE"),
            "localRank": env_int("LOCAL_RANK"),
            "groupRank": env_int("GROUP_RANK"),
            "node": os.environ.get("DDPSIM_NODE", ""),
            "restart": env_int("TORCHELASTIC_RESTART_COUNT", 0),
            "pid": os.getpid(),
            "started": round(self.started, 3),
            "time": round(time.time(), 3),
            "steps": self.steps,
            **extra,
        }
        line = f"{MARKER} {json.dumps(record, sort_keys=True)}\n"
        sys.stdout.flush()
        os.write(1, line.encode())


def module_summary(ddp_module):
    """sha256 of every parameter and buffer of the wrapped module (names and bytes), and a short digest of each."""
    import torch

    inner = getattr(ddp_module, "module", ddp_module)
    whole = hashlib.sha256()
    tensors = {}
    count = 0
    for name, tensor in inner.state_dict().items():
        if not isinstance(tensor, torch.Tensor):
            continue
        data = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        whole.update(name.encode())
        whole.update(data)
        if len(tensors) < MAX_TENSORS:
            tensors[name] = hashlib.sha256(data).hexdigest()[:12]
        count += tensor.numel()
    return {"type": type(inner).__name__, "numel": count, "checksum": whole.hexdigest()[:16], "tensors": tensors}


def install_hooks(report):
    """Hooks on torch's own classes and functions; the script's code is not touched."""
    import torch.distributed as dist
    from torch.distributed import distributed_c10d
    from torch.nn.parallel import DistributedDataParallel

    hold_step = env_int("DDPSIM_CHECK_HOLD_STEP")
    hold_node = env_int("DDPSIM_CHECK_HOLD_NODE")
    original_init = DistributedDataParallel.__init__
    original_forward = DistributedDataParallel.forward

    @functools.wraps(original_init)
    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        report.modules.append(self)

    @functools.wraps(original_forward)
    def forward(self, *args, **kwargs):
        report.on_step()
        if hold_step is not None and report.steps == hold_step:
            maybe_hold(report, hold_node)
        return original_forward(self, *args, **kwargs)

    DistributedDataParallel.__init__ = init
    DistributedDataParallel.forward = forward

    seconds = env_int("DDPSIM_COLLECTIVE_TIMEOUT_SECONDS")
    original_init_pg = distributed_c10d.init_process_group

    @functools.wraps(original_init_pg)
    def init_process_group(*args, **kwargs):
        # timeout is the third positional parameter; an explicit value, the script's own, is kept.
        if seconds is not None and len(args) < 3 and kwargs.get("timeout") is None:
            kwargs["timeout"] = datetime.timedelta(seconds=seconds)
        return original_init_pg(*args, **kwargs)

    distributed_c10d.init_process_group = init_process_group
    dist.init_process_group = init_process_group


def maybe_hold(report, hold_node):
    """Node `hold_node`'s local rank 0 waits here once per deployment, so that the check can kill the node mid-step."""
    if env_int("DDPSIM_NODE_RANK") != hold_node or env_int("LOCAL_RANK", 0) != 0:
        return
    folder = os.path.join(os.environ.get("DDPSIM_WORK_DIR", "."), ".ddpsim", os.environ.get("DDPSIM_RUN_ID") or "no-run-id")
    try:
        os.makedirs(folder, exist_ok=True)
        os.close(os.open(os.path.join(folder, "check-hold"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return  # held once already: a restarted node trains on
    except OSError:
        return
    report.emit("hold")
    time.sleep(env_int("DDPSIM_CHECK_HOLD_SECONDS", 20))


def run_target(kind, target, args):
    """As `python3 target args` (a script) or `python3 -m target args` (a module)."""
    if kind == "--script":
        sys.argv = [target, *args]
        sys.path[0] = os.path.dirname(os.path.abspath(target))
        runpy.run_path(target, run_name="__main__")
    else:
        sys.argv = [target, *args]  # run_module puts the module's file in sys.argv[0]
        sys.path[0] = os.getcwd()
        runpy.run_module(target, run_name="__main__", alter_sys=True)


def main(argv):
    if len(argv) < 2 or argv[0] not in ("--script", "--module"):
        sys.stderr.write("usage: check_launcher.py --script PATH [ARGS...] | --module NAME [ARGS...]\n")
        return 2
    report = Report()
    # A rank that dies of a signal (an abort in a collective) prints where it was; `python3 -X faulthandler` does the same.
    faulthandler.enable(all_threads=True)
    install_hooks(report)
    try:
        run_target(argv[0], argv[1], argv[2:])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) or stop.code is None else 1
        if code:
            report_end(report, "error", exitCode=code, error=f"SystemExit: {stop.code}")
        else:
            report_end(report, "exit", exitCode=0)
        raise
    except BaseException as error:
        report_end(report, "error", error=f"{type(error).__name__}: {error}"[:500])
        raise
    report_end(report, "exit", exitCode=0)
    return 0


def report_end(report, event, **extra):
    report.emit(event, modules=summaries(report), stepTimes=report.step_times, stepEvery=report.thin,
                firstStep=report.first_step, **extra)


def summaries(report):
    try:
        return [module_summary(m) for m in report.modules[:MAX_MODULES]]
    except Exception as error:  # a module in a state that cannot be read: say so rather than hide the script's exit
        return [{"type": "?", "error": f"{type(error).__name__}: {error}"[:200]}]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
