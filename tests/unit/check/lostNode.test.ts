import * as assert from "assert";
import { analyseLostNode, stepPoints, timelineInput } from "../../../cli/check";
import { event, module, nodeRecord, run, T0 } from "./fixtures";

const KILL = (T0 + 10) * 1000;

/** A lost-node run: rank 1 held before step 97 and was killed at T0+10; the final attempt ran `finalSteps` steps. */
function lostRun(finalSteps: number) {
    const first = { started: T0, stepTimes: [1, 2, 3] };
    const second = { started: T0 + 20, stepTimes: [8, 9] };
    return run(
        [
            nodeRecord(0, [
                event({ event: "error", rank: 0, steps: 96, error: "RuntimeError: Connection closed by peer", time: T0 + 10.5, ...first }),
                "Loading snapshot",
                event({ event: "exit", rank: 0, steps: finalSteps, exitCode: 0, modules: [module("a")], ...second, pid: 40 }),
            ]),
            nodeRecord(1, [
                event({ event: "hold", rank: 1, steps: 97, ...first }),
                "[W] Connection reset by peer",
                event({ event: "exit", rank: 1, steps: finalSteps, exitCode: 0, modules: [module("a")], ...second, pid: 41 }),
            ], { restarts: 1 }),
        ],
        { kind: "lostNode", crash: { node: "ddp-node-1", rank: 1, holdStep: 97, atMs: KILL, what: "SIGKILL", made: true } },
    );
}

describe("check: the lost-node run (cli/check/lostNode.ts)", () => {
    it("a resume: where the last attempt started, the steps redone, when training came back", () => {
        const a = analyseLostNode(lostRun(128), 192);
        assert.strictEqual(a.verdict.status, "ok");
        assert.strictEqual(a.agreement.agree, true);
        assert.deepStrictEqual(
            [a.stepsBefore, a.finalSteps, a.resumedAt, a.redone, a.fromScratch, a.recoverSeconds, a.restartedWorkers],
            [96, 128, 64, 32, false, 18, 2],
        );
    });

    it("from scratch: the last attempt trained every step again", () => {
        const a = analyseLostNode(lostRun(192), 192);
        assert.deepStrictEqual([a.fromScratch, a.resumedAt, a.redone], [true, undefined, 96]);
    });

    it("no kill, no resume figures", () => {
        const r = lostRun(128);
        r.crash = { node: "ddp-node-1", rank: 1, holdStep: 97, what: "it never reached step 97", made: false };
        const a = analyseLostNode(r, 192);
        assert.deepStrictEqual([a.stepsBefore, a.redone, a.recoverSeconds], [undefined, undefined, undefined]);
    });

    it("places the resumed attempt at the step it resumed from on the timeline", () => {
        const r = lostRun(128);
        const a = analyseLostNode(r, 192);
        const points = stepPoints(r, a);
        assert.deepStrictEqual(points.slice(0, 3), [[T0 + 1, 1], [T0 + 2, 2], [T0 + 3, 3]]);
        assert.deepStrictEqual(points.slice(3).map((p) => p[1]), [65, 66]);
        const input = timelineInput(r, a, "title") as { faults: { kind: string; start: number; recovered: number }[] };
        assert.deepStrictEqual(input.faults.map((f) => [f.kind, f.start, f.recovered]), [["crash", T0 + 10, T0 + 28]]);
    });
});
