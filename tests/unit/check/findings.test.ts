import * as assert from "assert";
import { analyseLostNode, CheckInputs, findings, passed } from "../../../cli/check";
import { ABORT_DUMP, event, module, nodeRecord, okRun, run } from "./fixtures";

const byId = (all: ReturnType<typeof findings>) => Object.fromEntries(all.map((f) => [f.id, f]));

function lostRunWith(finalSteps: number) {
    const r = run(
        [0, 1].map((rank) => nodeRecord(rank, [event({ event: "exit", rank, steps: finalSteps, exitCode: 0, modules: [module("a")], started: 1_800_000_020, firstStep: 3 })])),
        { kind: "lostNode", label: "lost node (2 nodes)", crash: { node: "ddp-node-1", rank: 1, holdStep: 97, atMs: 1_800_000_010_000, what: "SIGKILL to its main process", made: true } },
    );
    return { run: r, analysis: analyseLostNode(r, 192) };
}

function inputs(more: Partial<CheckInputs> = {}): CheckInputs {
    return { plain: [okRun(["a", "a"]), okRun(["b", "b"], 129)], lostNode: lostRunWith(128), requireResume: false, ...more };
}

describe("check: the findings (cli/check/findings.ts)", () => {
    it("a correct script: every finding passes, with what it checked and its evidence", () => {
        const all = findings(inputs());
        assert.deepStrictEqual(all.map((f) => [f.id, f.status]), [["runs-2", "pass"], ["runs-2", "pass"], ["no-hang", "pass"], ["ranks-agree", "pass"], ["lost-node", "pass"]]);
        const f = byId(all);
        assert.strictEqual(f["lost-node"].summary, "resumed at step 64 and finished; 32 step(s) redone, training again 13 s after the kill");
        assert.strictEqual(f["ranks-agree"].summary, "every rank ended with the same parameters in 2 run(s)");
        assert.ok(passed(all));
    });

    it("ranks that disagree fail 'ranks agree' only, naming the parameters", () => {
        const all = findings(inputs({ plain: [okRun(["a", "b"])], lostNode: { skipped: "the ranks of the 2 nodes run disagree already" } }));
        const f = byId(all);
        assert.deepStrictEqual([f["runs-2"].status, f["no-hang"].status, f["ranks-agree"].status, f["lost-node"].status], ["pass", "pass", "fail", "skip"]);
        assert.strictEqual(f["ranks-agree"].summary, "2 nodes: module 0 (Sequential, 2177 values): rank 1 differs from rank 0 in 0.weight");
        assert.ok(!passed(all));
    });

    it("a hang fails 'no hang' with who waited and who did not arrive, and the run's own finding", () => {
        const hung = run([
            nodeRecord(0, [event({ event: "error", rank: 0, steps: 43, error: "RuntimeError: Connection reset by peer" })], { exitCode: 1 }),
            nodeRecord(1, ["rank 1: 42 batches", ...ABORT_DUMP], { exitCode: 1 }),
        ]);
        const f = byId(findings(inputs({ plain: [hung], lostNode: { skipped: "x" } })));
        assert.strictEqual(f["no-hang"].status, "fail");
        assert.match(f["no-hang"].summary, /^2 nodes: rank 0 waited in a collective at step 43 that rank 1 did not arrive at: rank 1 was killed by SIGABRT .* at train\.py:44 in main$/);
        assert.ok(f["no-hang"].details.some((d) => d.includes('last line: "rank 1: 42 batches"')));
        assert.strictEqual(f["runs-2"].status, "fail");
        assert.strictEqual(f["ranks-agree"].status, "skip");
    });

    it("restarted from scratch passes with a warning, and fails with --require-resume", () => {
        const scratch = findings(inputs({ lostNode: lostRunWith(192) }));
        const f = byId(scratch)["lost-node"];
        assert.deepStrictEqual([f.status, f.warning], ["pass", true]);
        assert.match(f.summary, /^restarted from scratch: the last attempt trained all 192 step\(s\) again \(96 redone\)/);
        const strict = byId(findings(inputs({ lostNode: lostRunWith(192), requireResume: true })))["lost-node"];
        assert.strictEqual(strict.status, "fail");
        assert.match(strict.summary, /\(--require-resume\)$/);
    });

    it("a kill that never happened fails the lost-node finding", () => {
        const l = lostRunWith(128);
        l.run.crash = { node: "ddp-node-1", rank: 1, holdStep: 97, what: "the kill failed: no permission", made: false };
        const f = byId(findings(inputs({ lostNode: { run: l.run, analysis: analyseLostNode(l.run, 192) } })))["lost-node"];
        assert.deepStrictEqual([f.status, f.summary], ["fail", "no node was killed: the kill failed: no permission"]);
    });
});
