import * as assert from "assert";
import { factsOf, FactsBuilder, splitTimestamp, withTotals } from "../../../../cli";

const at = (s: number, text: string) => splitTimestamp(`2026-11-28T07:00:${String(s).padStart(2, "0")}.250000000Z ${text}`);
const T = (s: number) => Date.parse(`2026-11-28T07:00:${String(s).padStart(2, "0")}.250Z`);

describe("cli log facts", () => {
    it("gathers the last progress, the result, the first error line and the last line's time from our trainer's log", () => {
        const facts = factsOf([
            at(1, "[ddpsim] training mlp (1,234 parameters, synthetic data) on world size 2"),
            at(2, "[ddpsim] step 10/20 ( 50.0%) loss 2.0 100 samples/s 10.0 ms/step world 2"),
            at(3, "[ddpsim] step 20/20 (100.0%) loss 1.5 100 samples/s 10.0 ms/step world 2"),
            at(4, "[ddpsim] done: world size 2 (2 node(s)), step 20, all ranks agree on parameter checksum abc"),
            at(5, 'DDPSIM_RESULT {"agree": true, "final_step": 20, "world_size": 2}'),
        ]);
        assert.deepStrictEqual(facts, {
            lines: 5,
            lastLineAtMs: T(5),
            progress: {
                line: "[ddpsim] done: world size 2 (2 node(s)), step 20, all ranks agree on parameter checksum abc",
                step: 20,
                total: 20,
                percent: 100,
            },
            result: { agree: true, final_step: 20, world_size: 2 },
        });
    });

    it("keeps the node's verdict and first error line; lines fed one by one give the same facts", () => {
        const lines = [
            at(1, "train_ddp.py: error: argument --steps: invalid positive_int value: 'abc'"),
            at(2, "train_ddp.py: error: a second one"),
            at(3, 'DDPSIM_VERDICT {"node": "ddp-node-1", "rank": 1, "exitCode": 2, "reason": "usage error"}'),
        ];
        const builder = new FactsBuilder();
        lines.forEach((l) => builder.add(l));
        const expected = {
            lines: 3,
            lastLineAtMs: T(3),
            firstError: "train_ddp.py: error: argument --steps: invalid positive_int value: 'abc'",
            verdict: { node: "ddp-node-1", rank: 1, exitCode: 2, reason: "usage error" },
        };
        assert.deepStrictEqual(builder.facts, expected);
        assert.deepStrictEqual(factsOf(lines), expected);
    });

    it("carries a run's totals to a later line without them, never past them", () => {
        const before = { line: "step 10/40", step: 10, total: 40, percent: 25, epoch: 1, epochs: 3 };
        assert.deepStrictEqual(withTotals({ line: "step 20", step: 20, epoch: 2 }, before), {
            line: "step 20",
            step: 20,
            total: 40,
            percent: 50,
            epoch: 2,
            epochs: 3,
        });
        assert.deepStrictEqual(withTotals({ line: "step 50", step: 50 }, before), { line: "step 50", step: 50 });
        assert.deepStrictEqual(withTotals({ line: "step 5 (7%)", step: 5, percent: 7 }, before), {
            line: "step 5 (7%)",
            step: 5,
            total: 40,
            percent: 7,
        });
        assert.deepStrictEqual(withTotals({ line: "45%", percent: 45 }, undefined), { line: "45%", percent: 45 });
    });
});
