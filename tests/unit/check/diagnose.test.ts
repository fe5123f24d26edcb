import * as assert from "assert";
import { diagnoseRun } from "../../../cli/check";
import { ABORT_DUMP, event, lines, module, nodeRecord, okRun, run, T0, traceback } from "./fixtures";

const RESET = "RuntimeError: [./gloo/transport/tcp/pair.cc:525] Read error [172.25.0.3]:21726: Connection reset by peer";
const TIMEOUT = "RuntimeError: [./gloo/transport/tcp/unbound_buffer.cc:81] Timed out waiting 30000ms for recv operation to complete";

describe("check: how a run ended (cli/check/diagnose.ts)", () => {
    it("ok when every node exited 0 and every rank reported its end", () => {
        const v = diagnoseRun(okRun(["a", "a"]));
        assert.strictEqual(v.status, "ok");
        assert.deepStrictEqual(v.ranks.map((r) => [r.rank, r.status, r.steps]), [[0, "exited", 192], [1, "exited", 192]]);
    });

    it("an exited rank's last line is the script's last before it ended, not torch's C++ backtraces at shutdown", () => {
        const r = okRun(["a", "a"]);
        r.nodeRecords[1].lines.push(
            ...lines("ddp-node-1", 1, ["Exception raised from sendBytes at ./torch/csrc/distributed/c10d/Utils.hpp:646 (most recent call first):", "frame #24: _start + 0x21 (0x682581 in /usr/bin/python3)", "after the end"], T0 + 60),
        );
        assert.deepStrictEqual(diagnoseRun(r).ranks.map((x) => x.lastLine), ["[RANK0] Epoch 2 | Steps: 64", "[RANK1] Epoch 2 | Steps: 64"]);
    });

    it("not ok when a rank's report is missing, though every node exited 0", () => {
        const r = okRun(["a", "a"]);
        r.nodeRecords[1].lines = r.nodeRecords[1].lines.slice(0, 1);
        assert.strictEqual(diagnoseRun(r).status, "failed");
    });

    it("a crash: the rank whose own error came first, not the peer that lost its connection", () => {
        const v = diagnoseRun(
            run([
                nodeRecord(0, ["epoch 0 step 10/24", ...traceback(0, [["/code/train.py", 48, "main", "loss.backward()"]], RESET), event({ event: "error", rank: 0, steps: 16, error: RESET, time: 1_800_000_010 })], { exitCode: 1 }),
                nodeRecord(1, [...traceback(1, [["/code/train.py", 27, "__getitem__", "float(f)"]], "ValueError: could not convert string to float: 'n/a'"), event({ event: "error", rank: 1, steps: 15, error: "ValueError: could not convert string to float: 'n/a'" })], { exitCode: 1 }),
            ]),
        );
        assert.strictEqual(v.status, "crashed");
        if (v.status !== "crashed") return;
        assert.strictEqual(v.culprit.rank, 1);
        assert.strictEqual(v.culprit.text, "raised ValueError: could not convert string to float: 'n/a' after 15 step(s)");
        assert.strictEqual(v.culprit.where, "train.py:27 in __getitem__ (`float(f)`)");
        assert.strictEqual(v.ranks[0].distributed, true);
    });

    it("a hang: the rank that waited in a collective, and the one that did not arrive (killed in another collective)", () => {
        const v = diagnoseRun(
            run([
                nodeRecord(0, ["rank 0: 62 batches", event({ event: "error", rank: 0, steps: 43, error: RESET })], { exitCode: 1 }),
                nodeRecord(1, ["rank 1: 42 batches", ...ABORT_DUMP], { exitCode: 1 }),
            ]),
        );
        assert.strictEqual(v.status, "hung");
        if (v.status !== "hung") return;
        assert.deepStrictEqual(v.waiting.map((r) => r.rank), [0]);
        assert.deepStrictEqual(v.missing.map((r) => r.rank), [1]);
        assert.match(v.missing[0].text, /^was killed by SIGABRT \(\[enforce fail at .*12 vs 4\)$/);
        assert.strictEqual(v.missing[0].where, "train.py:44 in main");
        assert.strictEqual(v.missing[0].lastLine, "rank 1: 42 batches");
    });

    it("a hang: a rank that finished early (exit 0) did not arrive where its peer waited", () => {
        const v = diagnoseRun(
            run([
                nodeRecord(0, [event({ event: "error", rank: 0, steps: 60, error: TIMEOUT })], { exitCode: 1 }),
                nodeRecord(1, [event({ event: "exit", rank: 1, steps: 42, exitCode: 0, modules: [module("a")] })]),
            ]),
        );
        assert.strictEqual(v.status, "hung");
        if (v.status !== "hung") return;
        assert.deepStrictEqual([v.waiting.map((r) => r.rank), v.missing.map((r) => r.rank)], [[0], [1]]);
        assert.strictEqual(v.missing[0].text, "exited 0 after 42 step(s)");
    });

    it("a hang when the time limit ran out with ranks still running", () => {
        const v = diagnoseRun(run([nodeRecord(0, ["step 3"], { state: "running" }), nodeRecord(1, ["step 3"], { state: "running" })], { end: "timeout", timeoutSeconds: 60 }));
        assert.strictEqual(v.status, "hung");
        if (v.status !== "hung") return;
        assert.strictEqual(v.reason, "the run did not end within 60 s");
        assert.deepStrictEqual(v.ranks.map((r) => r.text), ["was still running", "was still running"]);
    });

    it("an argparse error is named by its own line, not SystemExit", () => {
        const usage = "train.py: error: the following arguments are required: total_epochs";
        const v = diagnoseRun(run([0, 1].map((rank) => nodeRecord(rank, [usage, event({ event: "error", rank, steps: 0, exitCode: 2, error: "SystemExit: 2" })], { exitCode: 2 }))));
        assert.strictEqual(v.status, "crashed");
        if (v.status === "crashed") assert.strictEqual(v.culprit.text, `raised ${usage} after 0 step(s)`);
    });

    it("no cluster when pulumi up failed", () => {
        const v = diagnoseRun(run([], { end: "up-failed", upError: ["error: ddpsim:image ..."] }));
        assert.deepStrictEqual(v, { status: "no cluster", reason: "pulumi up failed: error: ddpsim:image ...", ranks: [] });
    });
});
