import * as assert from "assert";
import { isTorchrunLine, parseProgress, parseResult, parseVerdict, Progress, stripRankPrefix } from "../../../../cli";

describe("cli log parsers", () => {
    const progressCases: [string, Omit<Progress, "line"> | undefined][] = [
        ["[ddpsim] step 20/40 ( 50.0%) loss 2.1234 1,234 samples/s 12.3 ms/step world 2", { step: 20, total: 40, percent: 50 }],
        ["[ddpsim] step 1,200/2,400 ( 50.0%) loss 2.1", { step: 1200, total: 2400, percent: 50 }],
        ["Epoch 3 | Step 64", { step: 64, epoch: 3 }],
        ["[GPU0] Epoch 0 | Batchsize: 32 | Steps: 64", { epoch: 0 }],
        ["epoch 2/10", { epoch: 2, epochs: 10 }],
        ["Epoch 2 of 10, iteration 300 of 1000", { step: 300, total: 1000, epoch: 2, epochs: 10, percent: 30 }],
        ["step: 120", { step: 120 }],
        ["global_step=7 loss=0.3", { step: 7 }],
        ["iter #15", { step: 15 }],
        ["45%", { percent: 45 }],
        ["training... 99.5 % done", { percent: 99.5 }],
        [" 45%|████▌     | 45/100 [00:10<00:12,  4.50it/s]", { step: 45, total: 100, percent: 45 }],
        ["[rank0]: step 3/4", { step: 3, total: 4, percent: 75 }],
        ["step 1/3", { step: 1, total: 3, percent: 33.3 }],
        ["[ddpsim] resuming from /checkpoints/ckpt-step00000040.pt (step 40)", { step: 40 }],
        ["usage: train_ddp.py [-h] [--steps STEPS]", undefined],
        ["timestep 5 of the simulation", undefined],
        ["150% of the budget", undefined],
        ["version 1.2.3", undefined],
        ['DDPSIM_RESULT {"final_step": 40, "steps": 40}', undefined],
        ["I1128 07:27:48.976000 1 torch/distributed/elastic/agent/server/api.py:525] step 3 of the agent", undefined],
        ["", undefined],
    ];
    for (const [text, expected] of progressCases) {
        it(`reads progress from ${JSON.stringify(text)}`, () => {
            const line = stripRankPrefix(text).trim();
            assert.deepStrictEqual(parseProgress(text), expected === undefined ? undefined : { line, ...expected });
        });
    }

    it("reads a failure verdict with every field", () => {
        const text =
            'DDPSIM_VERDICT {"node": "ddp-node-1", "rank": 1, "exitCode": 2, "error": "train_ddp.py: error: argument --steps: ' +
            "invalid positive_int value: 'abc'\", \"reason\": \"usage error (exit 2): not retried\", \"time\": 1764314867.5}";
        assert.deepStrictEqual(parseVerdict(text), {
            node: "ddp-node-1",
            rank: 1,
            exitCode: 2,
            error: "train_ddp.py: error: argument --steps: invalid positive_int value: 'abc'",
            reason: "usage error (exit 2): not retried",
            time: 1764314867.5,
        });
    });

    it("reads a stopped-by verdict, behind a rank prefix, and drops fields of the wrong type", () => {
        assert.deepStrictEqual(
            parseVerdict('[rank0]: DDPSIM_VERDICT {"node": "ddp-node-0", "rank": "0", "exitCode": 143, "stoppedBy": "ddp-node-1"}'),
            { node: "ddp-node-0", exitCode: 143, stoppedBy: "ddp-node-1" },
        );
    });

    for (const text of [
        "DDPSIM_VERDICT",
        "DDPSIM_VERDICT {not json",
        'DDPSIM_VERDICT ["node"]',
        'DDPSIM_VERDICT {"rank": 1}',
        'echo DDPSIM_VERDICT {"node": "x"}',
        'DDPSIM_VERDICTS {"node": "x"}',
    ]) {
        it(`reads no verdict from ${JSON.stringify(text)}`, () => {
            assert.strictEqual(parseVerdict(text), undefined);
        });
    }

    it("reads DDPSIM_RESULT's JSON", () => {
        assert.deepStrictEqual(parseResult('DDPSIM_RESULT {"agree": true, "final_step": 20}'), { agree: true, final_step: 20 });
        assert.strictEqual(parseResult("[ddpsim] done: world size 2"), undefined);
    });

    for (const [text, torchrun] of [
        ["E1128 07:27:48.976000 1 torch/distributed/elastic/multiprocessing/api.py:869] failed (exitcode: 2)", true],
        ["W1128 07:27:57.455000 1 torch/distributed/elastic/multiprocessing/api.py:897] Sending process 53 closing signal SIGTERM", true],
        ["[E1128 07:27:48.123456789 socket.cpp:1019] [c10d] The client socket has timed out", true],
        ["[W socket.cpp:464] [c10d] The server socket has failed to bind", true],
        ['  File "/usr/lib/python3/dist-packages/torch/distributed/elastic/agent/server/api.py", line 711, in run', true],
        ["Epoch 1 | loss 0.3", false],
        ["[ddpsim] step 1/2", false],
        ["[rank 0/2 node 0] error: ValueError: boom", false],
        ["Exception: E1128 is a code", false],
    ] as const) {
        it(`${torchrun ? "skips" : "keeps"} ${JSON.stringify(text.slice(0, 60))} as torchrun's own`, () => {
            assert.strictEqual(isTorchrunLine(text), torchrun);
        });
    }

    it("strips one [rankN]: or [defaultN]: prefix", () => {
        assert.strictEqual(stripRankPrefix("[rank0]: Traceback (most recent call last):"), "Traceback (most recent call last):");
        assert.strictEqual(stripRankPrefix("[default12]:ValueError: x"), "ValueError: x");
        assert.strictEqual(stripRankPrefix("[rank 0/2 node 0] error"), "[rank 0/2 node 0] error");
    });
});
