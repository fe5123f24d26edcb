import * as assert from "assert";
import { compareRanks, diagnoseRun } from "../../../cli/check";
import { event, module, nodeRecord, okRun, run } from "./fixtures";

describe("check: whether the ranks agree (cli/check/agreement.ts)", () => {
    it("agrees when every rank's checksum of every module is the same", () => {
        const a = compareRanks(diagnoseRun(okRun(["7a59a59f4931ee8c", "7a59a59f4931ee8c"])).ranks);
        assert.deepStrictEqual(a, { agree: true, lines: ["module 0 (Sequential, 2177 values): ranks 0, 1: 7a59a59f4931ee8c"], differences: [] });
    });

    it("names the ranks and the parameters that differ", () => {
        const ranks = diagnoseRun(okRun(["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"])).ranks;
        const a = compareRanks(ranks);
        assert.strictEqual(a.agree, false);
        assert.deepStrictEqual(a.lines, ["module 0 (Sequential, 2177 values): rank 0: aaaaaaaaaaaaaaaa; rank 1: bbbbbbbbbbbbbbbb"]);
        assert.deepStrictEqual(a.differences, ["module 0 (Sequential, 2177 values): rank 1 differs from rank 0 in 0.weight"]);
    });

    it("disagrees when the ranks wrapped different numbers of modules", () => {
        const r = run([
            nodeRecord(0, [event({ event: "exit", rank: 0, steps: 5, exitCode: 0, modules: [module("a"), module("b")] })]),
            nodeRecord(1, [event({ event: "exit", rank: 1, steps: 5, exitCode: 0, modules: [module("a")] })]),
        ]);
        const a = compareRanks(diagnoseRun(r).ranks);
        assert.strictEqual(a.agree, false);
        assert.strictEqual(a.differences[0], "the ranks wrapped different numbers of modules: rank 0 2, rank 1 1");
    });

    it("has nothing to compare when no module was wrapped", () => {
        const r = run([0, 1].map((rank) => nodeRecord(rank, [event({ event: "exit", rank, steps: 0, exitCode: 0, modules: [] })])));
        assert.strictEqual(compareRanks(diagnoseRun(r).ranks).agree, undefined);
    });
});
