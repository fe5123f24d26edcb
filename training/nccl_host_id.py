#!/usr/bin/env python3
"""Runs a script as __main__ with NCCL_HOSTID set per local rank, so that processes sharing one GPU look to NCCL like
processes of different hosts (NCCL refuses one GPU used twice within a host). For GPU checks on a one-GPU machine:

  torchrun --standalone --nproc-per-node 2 nccl_host_id.py train_ddp.py --device cuda ...
"""
import os
import runpy
import sys

if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
    print(__doc__.strip())
    sys.exit(0 if len(sys.argv) > 1 else 2)
os.environ["NCCL_HOSTID"] = f"ddpsim-rank-host-{os.environ.get('LOCAL_RANK', '0')}"
script = os.path.abspath(sys.argv[1])
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(script))
runpy.run_path(script, run_name="__main__")
