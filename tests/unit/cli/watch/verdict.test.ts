import * as assert from "assert";
import { clusterVerdict, ClusterVerdict, LogFacts, NodeSnapshot } from "../../../../cli";

const NOW = 1_800_000_000_000;
const STALL = 300;
const ago = (s: number) => NOW - s * 1000;

function node(rank: number, state: NodeSnapshot["state"], more: Omit<Partial<NodeSnapshot>, "facts"> & { facts?: Partial<LogFacts> } = {}): NodeSnapshot {
    return {
        node: `ddp-node-${rank}`,
        rank,
        state,
        exitCode: 0,
        startedAtMs: ago(60),
        ...more,
        facts: { lines: 10, lastLineAtMs: ago(1), ...more.facts },
    };
}

const STEP = { line: "[ddpsim] step 20/40 ( 50.0%)", step: 20, total: 40, percent: 50 };
const USAGE = "train_ddp.py: error: argument --steps: invalid positive_int value: 'abc'";

describe("cli cluster verdict", () => {
    const cases: [string, NodeSnapshot[], ClusterVerdict][] = [
        ["starting: containers up, nothing reported", [node(0, "running"), node(1, "created", { startedAtMs: undefined })], { status: "starting" }],
        ["starting while Docker restarts a node", [node(0, "running"), node(1, "restarting", { exitCode: 1 })], { status: "starting" }],
        [
            "running, with rank 0's progress",
            [node(0, "running", { facts: { progress: STEP } }), node(1, "running", { facts: { progress: { line: "step 19", step: 19 } } })],
            { status: "running", progress: STEP, progressNode: "ddp-node-0" },
        ],
        ["running when one node is done and another is not", [node(0, "running"), node(1, "exited", { finishedAtMs: ago(2) })], { status: "running" }],
        ["succeeded: every node exited 0", [node(0, "exited"), node(1, "exited"), node(2, "dead")], { status: "succeeded" }],
        [
            "failed: the first node that exited non-zero for good, with its first error line",
            [
                node(0, "exited", { exitCode: 1, finishedAtMs: ago(5), facts: { firstError: "later" } }),
                node(1, "exited", { exitCode: 1, finishedAtMs: ago(9), facts: { firstError: USAGE } }),
            ],
            { status: "failed", node: "ddp-node-1", rank: 1, exitCode: 1, reason: "exited with code 1", error: USAGE, source: "exit" },
        ],
        [
            "failed: equal exit times go to the lower rank",
            [node(1, "exited", { exitCode: 137, finishedAtMs: ago(5) }), node(0, "exited", { exitCode: 2, finishedAtMs: ago(5) })],
            { status: "failed", node: "ddp-node-0", rank: 0, exitCode: 2, reason: "exited with code 2", error: undefined, source: "exit" },
        ],
        [
            "not failed while Docker restarts the node that exited non-zero",
            [node(0, "running", { facts: { progress: STEP } }), node(1, "restarting", { exitCode: 1 })],
            { status: "running", progress: STEP, progressNode: "ddp-node-0" },
        ],
        [
            "failed at once on a DDPSIM_VERDICT, even with the nodes still up",
            [
                node(0, "running"),
                node(1, "running", {
                    facts: { firstError: "other", verdict: { node: "ddp-node-1", rank: 1, exitCode: 2, error: USAGE, reason: "usage error", time: 1 } },
                }),
            ],
            { status: "failed", node: "ddp-node-1", rank: 1, exitCode: 2, reason: "usage error", error: USAGE, source: "verdict" },
        ],
        [
            "failed: the node's own verdict wins over another's stoppedBy, and over exit codes",
            [
                node(0, "exited", { exitCode: 143, finishedAtMs: ago(30), facts: { verdict: { node: "ddp-node-0", exitCode: 143, stoppedBy: "ddp-node-2", time: 5 } } }),
                node(1, "exited", { exitCode: 1, finishedAtMs: ago(40) }),
                node(2, "exited", { exitCode: 1, finishedAtMs: ago(20), facts: { firstError: USAGE, verdict: { node: "ddp-node-2", time: 6 } } }),
            ],
            { status: "failed", node: "ddp-node-2", rank: 2, exitCode: 1, reason: "failed", error: USAGE, source: "verdict" },
        ],
        [
            "failed: the earliest of two own verdicts",
            [
                node(0, "running", { facts: { verdict: { node: "ddp-node-0", rank: 0, exitCode: 1, reason: "b", time: 20 } } }),
                node(1, "running", { facts: { verdict: { node: "ddp-node-1", rank: 1, exitCode: 2, reason: "a", time: 10 } } }),
            ],
            { status: "failed", node: "ddp-node-1", rank: 1, exitCode: 2, reason: "a", error: undefined, source: "verdict" },
        ],
        [
            "failed: only a stoppedBy verdict names the failed node",
            [
                node(0, "exited", { exitCode: 143, facts: { verdict: { node: "ddp-node-0", exitCode: 143, stoppedBy: "ddp-node-1" } } }),
                node(1, "restarting", { exitCode: 1, facts: { firstError: USAGE } }),
            ],
            {
                status: "failed",
                node: "ddp-node-1",
                rank: 1,
                exitCode: undefined,
                reason: "ddp-node-0 stopped because of it",
                error: USAGE,
                source: "verdict",
            },
        ],
        [
            "failed: a stoppedBy verdict's error line when the failed node's log has none",
            [
                node(0, "running", { facts: { verdict: { node: "ddp-node-0", exitCode: 143, error: USAGE, reason: "ddp-node-1 failed", stoppedBy: "ddp-node-1" } } }),
                node(1, "exited", { exitCode: 2 }),
            ],
            { status: "failed", node: "ddp-node-1", rank: 1, exitCode: 2, reason: "ddp-node-0 stopped because of it", error: USAGE, source: "verdict" },
        ],
        [
            "stalled: up, but no node logged or started for --stall-after",
            [
                node(0, "running", { startedAtMs: ago(900), facts: { lastLineAtMs: ago(400), progress: STEP } }),
                node(1, "running", { startedAtMs: ago(900), facts: { lastLineAtMs: ago(350) } }),
            ],
            { status: "stalled", idleSeconds: 350, progress: STEP, progressNode: "ddp-node-0" },
        ],
        [
            "stalled before any progress (a rendezvous that never completes)",
            [node(0, "running", { startedAtMs: ago(600), facts: { lastLineAtMs: undefined } })],
            { status: "stalled", idleSeconds: 600 },
        ],
        [
            "not stalled just under --stall-after: the most recent line of any node counts",
            [
                node(0, "running", { startedAtMs: ago(900), facts: { lastLineAtMs: ago(299), progress: STEP } }),
                node(1, "running", { startedAtMs: ago(900), facts: { lastLineAtMs: ago(1000) } }),
            ],
            { status: "running", progress: STEP, progressNode: "ddp-node-0" },
        ],
        [
            "not stalled when nothing is up",
            [node(0, "restarting", { startedAtMs: ago(900), facts: { lastLineAtMs: ago(900) } })],
            { status: "starting" },
        ],
    ];
    for (const [what, nodes, expected] of cases) {
        it(what, () => {
            assert.deepStrictEqual(clusterVerdict(nodes, NOW, STALL), expected);
        });
    }
});
