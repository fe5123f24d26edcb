/**
 * train_ddp.py for real: torchrun on CPU (gloo) inside the CPU image, the repo's training/ mounted read-only.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ensureCpuImage } from "../support/cpuImage";
import {
    BenchRow,
    lastResult,
    readJson,
    referenceRun,
    taggedLines,
    torchrun,
    TrainingScope,
} from "../support/trainingRuns";

describe("training: train_ddp.py under torchrun on CPU", function () {
    this.timeout(240_000);
    let image: string;
    let scope: TrainingScope;

    before(async function () {
        this.timeout(1_200_000); // the first build of the image takes minutes
        image = await ensureCpuImage();
    });
    beforeEach(() => {
        scope = new TrainingScope(image, "train");
    });
    afterEach(async () => {
        await scope.cleanUp();
    });

    it("refuses to run without torchrun: one clear line on stderr, exit code 2", async () => {
        const r = await scope.run({ name: "bare", command: ["python3", "train_ddp.py", "--steps", "3"] });
        assert.strictEqual(r.code, 2, r.stderr);
        const lines = r.stderr.trim().split("\n");
        assert.strictEqual(lines.length, 1, r.stderr);
        assert.match(lines[0], /^error: train_ddp\.py must be started by torchrun \(RANK, WORLD_SIZE, LOCAL_RANK not set\)/);
        assert.strictEqual(r.stdout, "");
    });

    it("2 processes on gloo train, the loss falls, and both ranks end with the same parameters", async () => {
        const ref = await referenceRun(image);
        assert.strictEqual(ref.code, 0, ref.stderr);
        const result = ref.result;
        assert.strictEqual(result.world_size, 2);
        assert.strictEqual(result.nodes, 1);
        assert.strictEqual(result.final_step, 30);
        assert.strictEqual(result.agree, true);
        assert.deepStrictEqual(result.rank_checksums, [result.checksum, result.checksum]);
        assert.match(result.checksum, /^[0-9a-f]{15}$/);
        assert.strictEqual(result.restarts, 0);
        assert.strictEqual(result.resumed_from_step, null);
        assert.ok(result.final_loss < 0.8 * result.first_loss, `loss ${result.first_loss} -> ${result.final_loss}`);
        assert.deepStrictEqual(ref.resultFile, result, "result.json holds the DDPSIM_RESULT line");
        assert.match(ref.stdout, /world size 2 \(1 node\(s\)\), step 30, all ranks agree on parameter checksum/);
        // progress every --log-every steps, with a percentage
        assert.deepStrictEqual(
            [...ref.stdout.matchAll(/step (\d+)\/30 \(\s*([\d.]+)%\)/g)].map((m) => [m[1], m[2]]),
            [["10", "33.3"], ["20", "66.7"], ["30", "100.0"]],
        );
        // one metrics line per step, with the contract's fields
        assert.deepStrictEqual(ref.metrics.map((m) => m.step), Array.from({ length: 30 }, (_, i) => i + 1));
        for (const m of ref.metrics) {
            assert.deepStrictEqual(Object.keys(m).sort(), ["attempt", "loss", "restarts", "samples_per_s", "step", "step_time_s", "time", "world_size"]);
            assert.strictEqual(m.world_size, 2);
            assert.ok(m.samples_per_s > 0 && m.step_time_s > 0);
        }
        // the last K (3) checkpoints kept, every 5 steps
        assert.deepStrictEqual(ref.checkpoints.map(([s]) => s), [20, 25, 30]);
    });

    it("3 processes on gloo agree", async () => {
        const checkpoints = scope.tempDir();
        const r = await scope.run({
            name: "three",
            checkpoints,
            command: torchrun({ nprocPerNode: 3 }, ["--steps", "20", "--batch-size", "16", "--log-every", "5"]),
        });
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        const result = lastResult(r.stdout);
        assert.strictEqual(result.world_size, 3);
        assert.strictEqual(result.agree, true);
        assert.strictEqual(new Set(result.rank_checksums).size, 1);
        assert.strictEqual(result.rank_checksums.length, 3);
        assert.strictEqual(result.final_step, 20);
        assert.ok(result.final_loss < result.first_loss);
        assert.deepStrictEqual(readJson(path.join(checkpoints, "result.json")), result);
    });

    it("the transformer, with gradient accumulation and bf16 autocast, trains and agrees", async () => {
        const r = await scope.run({
            name: "transformer",
            checkpoints: scope.tempDir(),
            command: torchrun({ nprocPerNode: 2 }, [
                "--model", "transformer", "--steps", "20", "--batch-size", "8", "--grad-accum", "2", "--bf16",
                "--lr", "3e-3",
            ]),
        });
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        const result = lastResult(r.stdout) as any;
        assert.strictEqual(result.model, "transformer");
        assert.strictEqual(result.agree, true);
        assert.strictEqual(result.final_step, 20);
        assert.ok(result.final_loss < 0.8 * result.first_loss, `loss ${result.first_loss} -> ${result.final_loss}`);
    });

    it("--data-dir: a dataset folder split across ranks by DistributedSampler, past an epoch boundary", async () => {
        const data = scope.tempDir("data");
        const made = await scope.run({
            name: "mkdata",
            checkpoints: data,
            command: ["python3", "make_dataset.py", "--out", "/checkpoints", "--samples", "512"],
        });
        assert.strictEqual(made.code, 0, made.stderr);
        assert.deepStrictEqual(fs.readdirSync(data).sort(), ["inputs.npy", "targets.npy"]);
        // 512 samples / 2 ranks / batch 16 = 16 steps per epoch; 24 steps cross into epoch 1
        const r = await scope.run({
            name: "data",
            checkpoints: scope.tempDir(),
            data,
            command: torchrun({ nprocPerNode: 2 }, ["--data-dir", "/data", "--steps", "24", "--batch-size", "16"]),
        });
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        const result = lastResult(r.stdout) as any;
        assert.strictEqual(result.data, "directory");
        assert.strictEqual(result.agree, true);
        assert.ok(result.final_loss < result.first_loss);
    });

    it("--bench prints a table and one parseable DDPSIM_BENCH line per message size", async () => {
        const checkpoints = scope.tempDir();
        const r = await scope.run({
            name: "bench",
            checkpoints,
            command: torchrun({ nprocPerNode: 2 }, ["--bench", "--bench-sizes", "4K,256K,2M", "--bench-iters", "5"]),
        });
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /all-reduce benchmark: world 2 .*backend gloo/);
        assert.match(r.stdout, /^\s+bytes\s+latency_us\s+algbw_gbps\s+busbw_gbps$/m);
        assert.match(r.stdout, /^\s+262144\s+[\d.]+\s+[\d.]+\s+[\d.]+$/m);
        const rows = taggedLines<BenchRow>(r.stdout, "DDPSIM_BENCH");
        assert.deepStrictEqual(rows.map((b) => b.bytes), [4096, 262144, 2097152]);
        for (const b of rows) {
            assert.strictEqual(b.world_size, 2);
            assert.strictEqual(b.backend, "gloo");
            assert.ok(b.latency_us > 0 && b.algbw_gbps > 0 && b.busbw_gbps > 0, JSON.stringify(b));
            // ring all-reduce with 2 ranks: busbw = algbw * 2(n-1)/n = algbw
            assert.ok(Math.abs(b.busbw_gbps - b.algbw_gbps) < 1e-3, JSON.stringify(b));
        }
        assert.deepStrictEqual(readJson(path.join(checkpoints, "bench.json")), rows.map((b) => ({ ...b })));
        assert.ok(!fs.existsSync(path.join(checkpoints, "result.json")), "--bench trains nothing");
    });
});
