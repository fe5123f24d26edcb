import * as assert from "assert";
import { firstErrorLine } from "../../../../cli";

/** A node of the real `--steps abc` run on the CPU image: usage text, torchrun's lines, its own traceback, its summary. */
const ARGPARSE_RUN = `usage: train_ddp.py [-h] [--checkpoint-dir CHECKPOINT_DIR]
                    [--data-dir DATA_DIR]
                    [--bench-warmup BENCH_WARMUP]
train_ddp.py: error: argument --steps: invalid positive_int value: 'abc'
E1128 07:27:48.844000 1 torch/distributed/elastic/multiprocessing/api.py:869] failed (exitcode: 2) local_rank: 0 (pid: 9) of binary: /usr/bin/python3.13
Traceback (most recent call last):
  File "/usr/bin/torchrun", line 33, in <module>
    sys.exit(load_entry_point('torch==2.6.0+debian', 'console_scripts', 'torchrun')())
             ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~^^
  File "/usr/lib/python3/dist-packages/torch/distributed/elastic/multiprocessing/errors/__init__.py", line 355, in wrapper
    return f(*args, **kwargs)
    raise ChildFailedError(
    ...<2 lines>...
    )
torch.distributed.elastic.multiprocessing.errors.ChildFailedError: 
============================================================
train_ddp.py FAILED
------------------------------------------------------------
Failures:
  <NO_OTHER_FAILURES>
------------------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2026-11-28_07:28:19
  host      : ddp-node-1
  rank      : 1 (local_rank: 0)
  exitcode  : 2 (pid: 18)
  error_file: <N/A>
  traceback : To enable traceback see: https://pytorch.org/docs/stable/elastic/errors.html
============================================================`;

/** torchrun's own traceback and summary first (a rendezvous closed by the other node), then the script's error. */
const TORCHRUN_FIRST = `Traceback (most recent call last):
  File "/usr/bin/torchrun", line 33, in <module>
    sys.exit(load_entry_point('torch==2.6.0+debian', 'console_scripts', 'torchrun')())
  File "/usr/lib/python3/dist-packages/torch/distributed/elastic/rendezvous/dynamic_rendezvous.py", line 676, in run
    raise RendezvousClosedError
torch.distributed.elastic.rendezvous.api.RendezvousClosedError
torch.distributed.elastic.multiprocessing.errors.ChildFailedError: 
============================================================
train.py FAILED
------------------------------------------------------------
Root Cause (first observed failure):
[0]:
  traceback : Traceback (most recent call last):
    File "/workspace/train.py", line 3, in <module>
  ValueError: inside the summary
============================================================
[rank1]: Traceback (most recent call last):
[rank1]:   File "/workspace/train.py", line 9, in <module>
[rank1]:     import foo
[rank1]: ModuleNotFoundError: No module named 'foo'`;

/** The script's traceback passes through @record, whose wrapper lives in torch/distributed/elastic. */
const THROUGH_RECORD = `[ddpsim] training mlp on world size 2
[rank 0/2 node 0] error: RuntimeError: boom
Traceback (most recent call last):
  File "/workspace/train_ddp.py", line 47, in <module>
    sys.exit(main())
  File "/usr/lib/python3/dist-packages/torch/distributed/elastic/multiprocessing/errors/__init__.py", line 355, in wrapper
    return f(*args, **kwargs)
  File "/workspace/train_ddp.py", line 35, in main
    raise RuntimeError("boom")
RuntimeError: boom
During handling of the above exception, another exception occurred:
Traceback (most recent call last):
KeyError: 'later'`;

const SYNTAX_ERROR = `  File "/workspace/bad.py", line 3
    def f(
         ^
SyntaxError: '(' was never closed
E1128 07:27:48.844000 1 torch/distributed/elastic/multiprocessing/api.py:869] failed (exitcode: 1)`;

describe("cli first error line", () => {
    const cases: [string, string, string | undefined][] = [
        ["an argparse error amid torchrun's lines", ARGPARSE_RUN, "train_ddp.py: error: argument --steps: invalid positive_int value: 'abc'"],
        ["the script's traceback after torchrun's own and its summary", TORCHRUN_FIRST, "ModuleNotFoundError: No module named 'foo'"],
        ["the first traceback's exception, through @record", THROUGH_RECORD, "RuntimeError: boom"],
        ["a SyntaxError (no Traceback header)", SYNTAX_ERROR, "SyntaxError: '(' was never closed"],
        [
            "python's can't open file",
            "/usr/bin/python3.13: can't open file '/workspace/nope.py': [Errno 2] No such file or directory",
            "/usr/bin/python3.13: can't open file '/workspace/nope.py': [Errno 2] No such file or directory",
        ],
        ["python -m with a missing module", "/usr/bin/python3: No module named pkg.train", "/usr/bin/python3: No module named pkg.train"],
        ["argparse of python -m", "python3 -m pkg.train: error: the following arguments are required: epochs", "python3 -m pkg.train: error: the following arguments are required: epochs"],
        ["a [default0]: prefix", "[default0]:Traceback (most recent call last):\n[default0]:  File \"/w/t.py\", line 1, in <module>\n[default0]:ImportError: cannot import name 'x'", "ImportError: cannot import name 'x'"],
        ["nothing in a clean run", "[ddpsim] step 1/2\n[ddpsim] step 2/2\nDDPSIM_RESULT {}", undefined],
        ["nothing in torchrun's lines alone", TORCHRUN_FIRST.split("\n").slice(0, 15).join("\n"), undefined],
        ["nothing in a traceback cut before its exception line", "Traceback (most recent call last):\n  File \"/w/t.py\", line 1", undefined],
    ];
    for (const [what, log, expected] of cases) {
        it(`finds ${what}`, () => {
            assert.strictEqual(firstErrorLine(log.split("\n")), expected);
        });
    }
});
