import * as assert from "assert";
import { ClusterVerdict, nodePrefix, progressText, resultText, table, verdictText } from "../../../cli";
import { nodeCounts } from "../../../cli";

describe("cli text", () => {
    const verdicts: [ClusterVerdict, string][] = [
        [{ status: "starting" }, "starting: containers up, no progress line yet"],
        [{ status: "running" }, "running"],
        [
            { status: "running", progress: { line: "x", step: 20, total: 40, percent: 50 }, progressNode: "ddp-node-0" },
            "running: ddp-node-0 step 20/40 50.0%",
        ],
        [{ status: "stalled", idleSeconds: 310 }, "stalled: no node logged a line for 5m10s"],
        [
            { status: "stalled", idleSeconds: 42, progress: { line: "x", epoch: 2, epochs: 10 }, progressNode: "ddp-node-1" },
            "stalled: no node logged a line for 42s (last progress: ddp-node-1 epoch 2/10)",
        ],
        [{ status: "succeeded" }, "succeeded: every node exited 0"],
        [
            { status: "failed", node: "ddp-node-1", rank: 1, exitCode: 1, reason: "exited with code 1", error: "train_ddp.py: error: x", source: "exit" },
            "failed: ddp-node-1 (rank 1) exited with code 1: train_ddp.py: error: x",
        ],
        [
            { status: "failed", node: "ddp-node-0", rank: 0, exitCode: 2, reason: "usage error", source: "verdict" },
            "failed: ddp-node-0 (rank 0) stopped for good with exit code 2 (usage error)",
        ],
        [
            { status: "failed", node: "ddp-node-9", rank: -1, reason: "ddp-node-0 stopped because of it", source: "verdict" },
            "failed: ddp-node-9 stopped for good (ddp-node-0 stopped because of it)",
        ],
    ];
    for (const [verdict, text] of verdicts) {
        it(`writes the verdict ${JSON.stringify(text)}`, () => {
            assert.strictEqual(verdictText(verdict), text);
        });
    }

    it("writes progress short", () => {
        assert.strictEqual(progressText({ line: "", epoch: 3, step: 64 }), "epoch 3 step 64");
        assert.strictEqual(progressText({ line: "", percent: 45 }), "45.0%");
        assert.strictEqual(progressText(undefined), "");
    });

    it("aligns tables without padding the last column", () => {
        assert.strictEqual(
            table([
                ["NODE", "RANK", "PROGRESS"],
                ["ddp-node-10", "10", "-"],
                ["n", "1", "step 1/2"],
            ]),
            ["NODE         RANK  PROGRESS", "ddp-node-10  10    -", "n            1     step 1/2"].join("\n"),
        );
    });

    it("colours node prefixes only when asked", () => {
        assert.strictEqual(nodePrefix("ddp-node-1", 1, false), "[ddp-node-1] ");
        assert.strictEqual(nodePrefix("ddp-node-1", 1, true), "\x1b[33m[ddp-node-1]\x1b[0m ");
    });

    it("summarises our trainer's DDPSIM_RESULT, and shows other JSON as it is", () => {
        assert.strictEqual(
            resultText({ final_step: 20, steps: 20, world_size: 2, agree: true, first_loss: 2.30374, final_loss: 1.58637, elapsed_s: 5.752 }),
            "step 20/20, world size 2, ranks agree, loss 2.3037 -> 1.5864, 5.8 s",
        );
        assert.strictEqual(resultText({ accuracy: 0.9 }), '{"accuracy":0.9}');
    });

    it("counts nodes by state, with the exit code of those that exited for good", () => {
        assert.strictEqual(
            nodeCounts([
                { state: "running", exitCode: 0 },
                { state: "exited", exitCode: 0 },
                { state: "running", exitCode: 0 },
                { state: "exited", exitCode: 1 },
                { state: "restarting", exitCode: 1 },
            ]),
            "2 running, 1 exited 0, 1 exited 1, 1 restarting",
        );
    });
});
