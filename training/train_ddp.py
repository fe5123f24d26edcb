#!/usr/bin/env python3
"""A DDP trainer that survives restarts. Start it with torchrun on every node:

  torchrun --nnodes 2 --nproc-per-node 1 --rdzv-backend c10d --rdzv-endpoint node-0:29400 --rdzv-id job \
      --max-restarts 3 train_ddp.py --checkpoint-dir /checkpoints --steps 100

Exit codes: 0 done (or stopped cleanly by SIGTERM after a checkpoint), 1 error, 2 usage (not under torchrun),
3 ranks ended with different parameters. `--help` lists the flags; `--bench` measures all-reduce instead.
"""
import sys

from torch.distributed.elastic.multiprocessing.errors import record

from ddpsim_train import bench, distenv
from ddpsim_train.cli import parse_args
from ddpsim_train.stop import StopFlag, install_stack_dumps
from ddpsim_train.trainer import Trainer, all_gather_ints, refuse_after_disagreement


@record  # torchrun's error file gets this rank's traceback
def main(argv=None):
    args = parse_args(argv)
    denv = distenv.read_env()  # once; exits 2 when not started by torchrun
    if not args.bench:
        refuse_after_disagreement(args.checkpoint_dir, denv)
    install_stack_dumps()
    distenv.warn_about_shared_store(denv)
    code, succeeded, device = 1, False, None
    try:
        device = distenv.choose_device(args.device, denv)
        backend = distenv.choose_backend(args.backend, device)
        distenv.init_process_group(backend, device, args.timeout_seconds)
        if args.bench:
            nodes = len({g for (g,) in all_gather_ints([denv.group_rank], device)})
            bench.run(args, denv, device, backend, nodes)
            code = 0
        else:
            code = Trainer(args, denv, device, backend).train(StopFlag())
        succeeded = True
    except Exception as error:
        print(f"{denv.tag()} error: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        raise
    finally:
        distenv.destroy_process_group(succeeded, device, code)
    return code


if __name__ == "__main__":
    sys.exit(main())
