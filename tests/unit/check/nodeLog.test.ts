import * as assert from "assert";
import { frameText, nodeLogFacts } from "../../../cli/check";
import { ABORT_DUMP, event, lines, traceback } from "./fixtures";

describe("check: what a node's log says (cli/check/nodeLog.ts)", () => {
    it("reads the launcher's DDPSIM_CHECK lines, with a rank prefix too", () => {
        const facts = nodeLogFacts(lines("ddp-node-1", 1, ["hello", `[rank1]: ${event({ event: "exit", rank: 1, steps: 42, exitCode: 0 })}`]));
        assert.strictEqual(facts.events.length, 1);
        assert.deepStrictEqual([facts.events[0].event, facts.events[0].rank, facts.events[0].steps], ["exit", 1, 42]);
        assert.strictEqual(facts.lastLine, "hello");
    });

    it("finds the innermost frame of the script's code in a traceback, with its source line, and the last line before it", () => {
        const facts = nodeLogFacts(
            lines("ddp-node-1", 1, [
                "epoch 0 step 5/24 loss 0.7",
                ...traceback(
                    1,
                    [
                        ["/code/train.py", 48, "main", "for step, (x, y) in enumerate(loader):"],
                        ["/usr/lib/python3/dist-packages/torch/utils/data/dataloader.py", 708, "__next__", "data = self._next_data()"],
                        ["/code/train.py", 27, "__getitem__", "return torch.tensor([float(f) for f in features]), int(label)"],
                    ],
                    "ValueError: could not convert string to float: 'n/a'",
                ),
                "after the error",
            ]),
        );
        assert.strictEqual(facts.firstError, "ValueError: could not convert string to float: 'n/a'");
        assert.deepStrictEqual(facts.frame, { file: "/code/train.py", line: 27, func: "__getitem__", source: "return torch.tensor([float(f) for f in features]), int(label)" });
        assert.strictEqual(facts.lastLine, "epoch 0 step 5/24 loss 0.7");
        assert.strictEqual(facts.lastLineOverall, "after the error");
        assert.strictEqual(frameText(facts.frame), "train.py:27 in __getitem__ (`return torch.tensor([float(f) for f in features]), int(label)`)");
    });

    it("reads a worker killed by SIGABRT: the signal, C++'s what(), and the script's frame from faulthandler's dump", () => {
        const facts = nodeLogFacts(lines("ddp-node-1", 1, ["rank 1: 3 shards, 42 batches per epoch", ...ABORT_DUMP]));
        assert.deepStrictEqual(facts.signal, {
            number: 6,
            fatal: "Fatal Python error: Aborted",
            what: "[enforce fail at ./gloo/transport/tcp/pair.cc:446] op.preamble.length <= op.nbytes. 12 vs 4",
        });
        assert.deepStrictEqual(facts.frame, { file: "/code/train.py", line: 44, func: "main" });
        assert.strictEqual(facts.lastLine, "rank 1: 3 shards, 42 batches per epoch");
        assert.strictEqual(frameText(facts.frame, (file, line) => (file === "train.py" && line === 44 ? "dist.all_reduce(val)" : undefined)), "train.py:44 in main (`dist.all_reduce(val)`)");
    });

    it("skips torchrun's and the agent's lines when it looks for the script's last line", () => {
        const facts = nodeLogFacts(
            lines("ddp-node-0", 0, [
                "step 10",
                "W1203 09:51:54.142000 6 torch/distributed/run.py:792] *****",
                "[ddpsim ddp-node-0] local rank 0 failed with exit code 1",
                "[W1203 09:53:32.064497006 socket.cpp:759] [c10d] The client socket has failed to connect",
            ]),
        );
        assert.strictEqual(facts.lastLine, "step 10");
        assert.strictEqual(facts.firstError, undefined);
    });
});
