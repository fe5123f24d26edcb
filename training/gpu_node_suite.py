#!/usr/bin/env python3
"""One launch, several measurements: started by torchrun exactly like train_ddp.py, it sets up the process group
once and then runs train_ddp.py's phases one after another: the all-reduce benchmark (`--bench`) and short
trainings (each phase's flags are train_ddp.py's). gpu_node_bench.sh uses it so that one torchrun launch per
configuration measures bandwidth and the step times of both models.

  torchrun ... gpu_node_suite.py --out DIR @bench --bench --bench-sizes 256M @mlp --model mlp --steps 20 ...

Each phase is @name followed by its train_ddp.py flags; it writes into DIR/<name> (bench.json, metrics.jsonl,
result.json). The device and backend come from the first phase's flags. Exit status: the first non-zero phase's.
"""
import os
import sys
import time

from torch.distributed.elastic.multiprocessing.errors import record

from ddpsim_train import bench, distenv
from ddpsim_train.cli import parse_args
from ddpsim_train.stop import StopFlag
from ddpsim_train.trainer import Trainer, all_gather_ints

PHASES = ("@bench", "@mlp", "@tf")


def split_phases(argv):
    """['--out', D, '@bench', a.., '@mlp', b..] -> (D, [('bench', [a..]), ('mlp', [b..])])."""
    if len(argv) < 2 or argv[0] != "--out":
        sys.exit("usage: gpu_node_suite.py --out DIR @PHASE FLAGS... [@PHASE FLAGS...]  (phases: @bench, @mlp, @tf)")
    out, phases = argv[1], []
    for token in argv[2:]:
        if token in PHASES:
            phases.append((token[1:], []))
        elif not phases:
            sys.exit(f"gpu_node_suite.py: expected a phase name ({', '.join(PHASES)}), got {token!r}")
        else:
            phases[-1][1].append(token)
    return out, phases


@record
def main(argv=None):
    out, phases = split_phases(sys.argv[1:] if argv is None else argv)
    parsed = [(name, parse_args(flags + ["--checkpoint-dir", os.path.join(out, name)])) for name, flags in phases]
    denv = distenv.read_env()
    code, succeeded, device = 0, False, None
    try:
        first = parsed[0][1]
        device = distenv.choose_device(first.device, denv)
        backend = distenv.choose_backend(first.backend, device)
        distenv.init_process_group(backend, device, first.timeout_seconds)
        for name, args in parsed:
            started = time.perf_counter()
            if args.bench:
                nodes = len({g for (g,) in all_gather_ints([denv.group_rank], device)})
                bench.run(args, denv, device, backend, nodes)
                result = 0
            else:
                result = Trainer(args, denv, device, backend).train(StopFlag())
            if denv.is_main:
                print(f"[suite] phase {name}: exit {result}, {time.perf_counter() - started:.1f} s", flush=True)
            code = code or result
        succeeded = True
    except Exception as error:
        print(f"{denv.tag()} error: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        raise
    finally:
        distenv.destroy_process_group(succeeded, device, code if succeeded else 1)
    return code


if __name__ == "__main__":
    sys.exit(main())
