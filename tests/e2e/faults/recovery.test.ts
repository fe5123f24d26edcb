/**
 * Recovery beyond one fault, on a real engine (CPU image): elastic training (3 nodes, minNodes 2: lose one, go on
 * at world size 2, heal, grow back to 3), a chaos scenario of three faults with its report, JSON and PNG, and a
 * destroy in the middle of a run that the next up resumes. The three run at once; timings printed, never asserted.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureCpuImage } from "../../support/cpuImage";
import { cleanUp, metricsOf, resultOf, stackConfig, upStack, volumeFiles, waitForStep } from "../../support/clusterRuns";
import { stackObjects } from "../../support/dockerObjects";
import { destroyStack, PROJECT } from "../../support/realStack";
import { waitFor } from "../../support/wait";
import { ensureCliBuilt } from "../cli/cliProcess";
import { COLLECTIVE_TIMEOUT, FaultLab, sharedReference, SLOW, STEPS } from "./faultLab";

describe("elastic training, chaos scenarios and destroy mid-run (CPU image)", function () {
    this.timeout(1_800_000);
    let lab: FaultLab;
    const runs: Record<string, Promise<void>> = {};
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-chaos-"));

    before(async function () {
        this.timeout(900_000);
        const [image] = await Promise.all([ensureCpuImage(), ensureCliBuilt()]);
        lab = new FaultLab(image);
        void sharedReference(image).catch(() => undefined);
        for (const [name, body] of [["elastic", elastic], ["chaos", chaos], ["destroy", destroyMidRun]] as const) {
            runs[name] = body();
            runs[name].catch(() => undefined); // reported by its own test
        }
    });

    after(async () => {
        await Promise.all(Object.values(runs).map((r) => r.catch(() => undefined)));
        await cleanUp(lab?.stacks ?? []);
        if (lab !== undefined) fs.rmSync(lab.stateDir, { recursive: true, force: true });
        fs.rmSync(scratch, { recursive: true, force: true });
    });

    async function elastic(): Promise<void> {
        const s = await lab.up("f-elastic", {
            "ddpsim:nodes": 3,
            "ddpsim:minNodes": 2,
            "ddpsim:scriptArgs": ["--steps", "90", "--checkpoint-every", "5", "--log-every", "5", "--step-sleep", "0.3"],
        });
        await waitForStep(s.volume, 8, 300_000);
        assert.ok((await metricsOf(s.volume)).every((m) => m.world_size === 3));
        const lost = await lab.cliOk(s.stack, ["fault", "lose", "--node", "2"]);
        const lostMs = Date.parse(lost.stdout.split(" ")[0]);
        const atTwo = await waitFor("a step at world size 2", 300_000, async () => (await metricsOf(s.volume)).find((m) => m.time * 1000 > lostMs && m.world_size === 2), 1000);
        const status = await lab.cliOk(s.stack, ["status"]);
        assert.match(status.stdout, /elastic: minNodes 2 of 3; RANK is the node's deployment rank/);
        assert.match(status.stdout, /fault: ddp-node-2 \(rank 2\) lose since/);
        const healed = await lab.cliOk(s.stack, ["heal"]);
        const healMs = Date.parse(healed.stdout.split(" ")[0]);
        const atThree = await waitFor("a step at world size 3 again", 300_000, async () => (await metricsOf(s.volume)).find((m) => m.time * 1000 > healMs && m.world_size === 3), 1000);
        const result = await lab.finish(s, 3);
        assert.strictEqual(result.final_step, 90);
        assert.deepStrictEqual(result.world_sizes, [2, 3]);
        console.log(
            `      figure: elastic 3 -> 2 -> 3 nodes: training at world size 2 ${((atTwo.time * 1000 - lostMs) / 1000).toFixed(1)} s after the loss ` +
                `(from step ${atTwo.step}), at 3 again ${((atThree.time * 1000 - healMs) / 1000).toFixed(1)} s after heal (from step ${atThree.step})`,
        );
    }

    async function chaos(): Promise<void> {
        const s = await lab.up("f-chaos", { "ddpsim:scriptArgs": ["--steps", "50", ...SLOW.slice(2)] });
        const file = path.join(scratch, "scenario.yaml");
        fs.writeFileSync(
            file,
            [
                "# three faults against a 2-node run of 50 steps",
                "faults:",
                "  - {step: 8, kind: crash, node: 1}",
                `  - {step: 18, kind: partition, node: 1, for: ${COLLECTIVE_TIMEOUT + 5}s}`,
                "  - {step: 35, kind: slow, node: 0, for: 8s, cpus: 0.1}",
            ].join("\n"),
        );
        // `--reference run`: the CLI trains the same 50 steps undisturbed in one container and compares.
        const out = path.join(scratch, "report");
        const run = await lab.cli(s.stack, ["chaos", file, "--out", out, "--reference", "run", "--timeout", "10m"], 1_500_000);
        assert.strictEqual(run.code, 0, `${run.stdout}\n${run.stderr}`);
        console.log(run.stdout.slice(run.stdout.indexOf("\nchaos on")).split("\n").map((l) => `      ${l}`).join("\n"));
        assert.deepStrictEqual(fs.readdirSync(out).sort(), ["report.json", "report.txt", "timeline.png"]);
        const png = fs.readFileSync(path.join(out, "timeline.png"));
        assert.deepStrictEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG");
        const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
        assert.deepStrictEqual(report.faults.map((f: any) => [f.index, f.kind, f.node, typeof f.startedAt]), [
            [1, "crash", "ddp-node-1", "string"],
            [2, "partition", "ddp-node-1", "string"],
            [3, "slow", "ddp-node-0", "string"],
        ]);
        for (const f of report.faults.slice(0, 2)) {
            assert.strictEqual(typeof f.detectSeconds, "number", `fault ${f.index} detected`);
            assert.strictEqual(f.recovery, "restart", `fault ${f.index} recovered by a restart`);
            assert.ok(f.stepsRedone >= 0);
        }
        assert.strictEqual(report.faults[2].recovery, "continued", "a straggler needs no restart");
        assert.strictEqual(report.verdict.status, "succeeded");
        assert.strictEqual(report.parameters.outcome, "equal", report.parameters.text);
        assert.ok(report.nodes.find((n: any) => n.node === "ddp-node-1").containerRestarts >= 1, "the crash restarted the container");
    }

    async function destroyMidRun(): Promise<void> {
        const s = await lab.up("f-destroy");
        await waitForStep(s.volume, 12, 300_000);
        await destroyStack(s.stack);
        assert.deepStrictEqual((await stackObjects(PROJECT, s.stack)).containers, [], "destroy removed every node");
        const steps = (await metricsOf(s.volume)).map((m) => m.step);
        const stoppedAt = Math.max(...steps);
        const files = await volumeFiles(s.volume);
        const newest = Math.max(...files.filter((f) => /^ckpt-step\d{8}\.pt$/.test(f)).map((f) => Number(f.slice(9, 17))));
        assert.strictEqual(newest, stoppedAt, `a checkpoint of the last step trained (${stoppedAt}): nothing lost; files ${files.join(" ")}`);
        assert.ok(!files.includes("result.json"));
        const again = await upStack(s.stack, stackConfig("cpu", { "ddpsim:image": lab.image, "ddpsim:collectiveTimeoutSeconds": COLLECTIVE_TIMEOUT, "ddpsim:scriptArgs": SLOW }));
        assert.ok(again.ok, again.stderr);
        assert.strictEqual(again.outputs.checkpointVolumeName, s.volume, "the same run volume");
        const result = await lab.finish({ ...s, names: again.outputs.containerNames });
        assert.strictEqual(result.resumed_from_step, stoppedAt);
        assert.strictEqual(result.final_step, STEPS);
        assert.deepStrictEqual((await metricsOf(s.volume)).map((m) => m.step), Array.from({ length: STEPS }, (_, i) => i + 1), "no step lost or repeated");
        assert.strictEqual(result.checksum, (await sharedReference(lab.image)).checksum, "same parameters as an undisturbed run");
        assert.strictEqual((await resultOf(s.volume)).checksum, result.checksum);
        console.log(`      figure: destroy at step ${stoppedAt}: checkpoint of that step kept, the next up resumed from it`);
    }

    for (const name of ["elastic", "chaos", "destroy"]) {
        const title = {
            elastic: "elastic: 3 nodes, minNodes 2: lose one, continue at world size 2, heal, back to 3, finish",
            chaos: "chaos: a scenario of three faults gives the table, report.json and timeline.png; parameters equal",
            destroy: "destroy mid-run leaves a complete checkpoint, and the next up resumes from it",
        }[name];
        it(title!, async () => {
            await runs[name];
        });
    }
});
