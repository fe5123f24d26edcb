import * as assert from "assert";
import { execFile } from "child_process";
import { promisify } from "util";
import { ensureCpuImage } from "../support/cpuImage";
import { eventsOf } from "../support/dockerEvents";
import { docker, stackObjects } from "../support/dockerObjects";
import {
    cleanUp,
    crashContainer,
    destroyStack,
    logsOf,
    metricsOf,
    resultOf,
    stackConfig,
    TrainingResult,
    uniqueStack,
    upStack,
    volumeFiles,
    waitForExit,
    waitForStep,
} from "../support/clusterRuns";
import { PROJECT } from "../support/realStack";
import { REPO_ROOT } from "../support/stackFiles";

const run = promisify(execFile);

/** The training run every test uses, so that their final parameters can be compared with each other. */
const STEPS = 40;
const TRAIN_ARGS = ["--steps", String(STEPS), "--checkpoint-every", "5", "--log-every", "10"];
/** The same run, slowed down so that a node can be crashed mid-way. Sleeping changes no arithmetic. */
const SLOW_ARGS = [...TRAIN_ARGS, "--step-sleep", "0.3"];

describe("the stack through pulumi up on a real Docker engine (CPU image)", function () {
    this.timeout(600_000);
    let image: string;
    const stacks: string[] = [];
    /** The parameter checksum of an uninterrupted 2-node run of TRAIN_ARGS. */
    let reference: TrainingResult | undefined;
    let twoNodeMetrics: { steps: number; seconds: number } | undefined;

    function newStack(label: string): string {
        const stack = uniqueStack(label);
        stacks.push(stack);
        return stack;
    }

    /** The dev stack (2 nodes, master on 29500) on CPU, with the CPU image and the given script arguments. */
    function devOnCpu(overrides: Record<string, unknown> = {}): Record<string, string> {
        return stackConfig("dev", {
            "ddpsim:gpusPerNode": 0,
            "ddpsim:imageMode": "local",
            "ddpsim:image": image,
            "ddpsim:scriptArgs": TRAIN_ARGS,
            ...overrides,
        });
    }

    async function upOrFail(stack: string, config: Record<string, string>) {
        const up = await upStack(stack, config);
        assert.ok(up.ok, `up failed: ${up.stderr}`);
        return up;
    }

    /** Waits for a finished run and checks what every finished run must show. */
    async function finishedRun(outputs: Record<string, any>, nodes: number): Promise<TrainingResult> {
        const codes = await waitForExit(outputs.containerNames);
        if (codes.some((c) => c !== 0)) {
            const logs = await Promise.all(outputs.containerNames.map(logsOf));
            assert.fail(`exit codes ${codes}:\n${logs.join("\n-----\n").slice(-6000)}`);
        }
        const result = await resultOf(outputs.checkpointVolumeName);
        assert.strictEqual(result.world_size, nodes);
        assert.strictEqual(result.nodes, nodes);
        assert.strictEqual(result.agree, true);
        const masterLog = await logsOf(outputs.containerNames[0]);
        assert.match(masterLog, new RegExp(`DDPSIM_RESULT .*"checksum": "${result.checksum}"`));
        return result;
    }

    before(async function () {
        this.timeout(900_000);
        image = await ensureCpuImage();
    });

    after(async () => {
        await cleanUp(stacks);
    });

    it("brings up the dev topology on CPU: 2 nodes join one world, train, agree and checkpoint", async () => {
        const stack = newStack("dev");
        const up = await upOrFail(stack, devOnCpu());
        assert.strictEqual(up.outputs.masterEndpoint, "ddp-node-0:29500");
        assert.strictEqual(up.outputs.containerNames.length, 2);

        const result = await finishedRun(up.outputs, 2);
        assert.strictEqual(result.final_step, STEPS);
        assert.strictEqual(result.resumed_from_step, null);
        assert.ok(result.final_loss < result.first_loss, `loss ${result.first_loss} -> ${result.final_loss}`);
        reference = result;

        const volume = up.outputs.checkpointVolumeName;
        const metrics = await metricsOf(volume);
        assert.deepStrictEqual(
            metrics.map((m) => m.step),
            Array.from({ length: STEPS }, (_, i) => i + 1),
        );
        assert.ok(metrics.every((m) => m.world_size === 2));
        const files = await volumeFiles(volume);
        assert.ok(files.includes("metrics.jsonl") && files.includes("result.json"), files.join(" "));
        assert.ok(files.includes("ckpt-step00000040.pt"), `no checkpoint of step 40 in ${files.join(" ")}`);

        const created = Math.max(
            ...(await Promise.all(
                up.outputs.containerNames.map(async (n: string) => Date.parse((await docker.getContainer(n).inspect()).Created)),
            )),
        );
        twoNodeMetrics = { steps: metrics.length - 1, seconds: metrics[metrics.length - 1].time - metrics[0].time };
        console.log(
            `      figure: ${(metrics[0].time - created / 1000).toFixed(1)} s from the last container's creation ` +
                `to the first training step (2 nodes, CPU image)`,
        );
    });

    it("destroys containers and network, keeps the checkpoint volume, and resumes from it on the next up", async () => {
        const stack = newStack("resume");
        const first = await upOrFail(stack, devOnCpu({ "ddpsim:scriptArgs": TRAIN_ARGS }));
        const firstResult = await finishedRun(first.outputs, 2);
        assert.strictEqual(firstResult.final_step, STEPS);

        // pulumi destroy's order, as Docker saw it (the nodes had exited: no stop, only removal): both nodes, then
        // the network; the volume is only forgotten (retainOnDelete).
        const [master, worker] = first.outputs.containerNames;
        const network = first.outputs.networkName;
        const volume = first.outputs.checkpointVolumeName;
        const since = Date.now();
        await destroyStack(stack);
        const events = await eventsOf([master, worker, network, volume], since, Date.now());
        const removed = events.filter((e) => e.action === "destroy").map((e) => e.name);
        assert.deepStrictEqual([removed.slice(0, 2).sort(), removed.slice(2)], [[master, worker].sort(), [network]], JSON.stringify(events));
        const left = await stackObjects(PROJECT, stack);
        assert.deepStrictEqual(left.containers, []);
        assert.deepStrictEqual(left.networks, []);
        assert.deepStrictEqual(
            left.volumes.map((v) => v.Name),
            [first.outputs.checkpointVolumeName],
        );
        const kept = await volumeFiles(first.outputs.checkpointVolumeName);
        assert.ok(kept.includes("metrics.jsonl") && kept.some((f) => f.startsWith("ckpt")), kept.join(" "));

        const more = ["--steps", String(STEPS + 10), ...TRAIN_ARGS.slice(2)];
        const second = await upOrFail(stack, devOnCpu({ "ddpsim:scriptArgs": more }));
        assert.strictEqual(second.outputs.checkpointVolumeName, first.outputs.checkpointVolumeName);
        assert.notDeepStrictEqual(second.outputs.containerNames, first.outputs.containerNames);
        const resumed = await finishedRun(second.outputs, 2);
        assert.strictEqual(resumed.resumed_from_step, STEPS);
        assert.strictEqual(resumed.final_step, STEPS + 10);
        const steps = (await metricsOf(second.outputs.checkpointVolumeName)).map((m) => m.step);
        assert.deepStrictEqual(steps, Array.from({ length: STEPS + 10 }, (_, i) => i + 1), "no step repeated or skipped");
    });

    it("trains a 4-node stack in one world of 4", async () => {
        const stack = newStack("four");
        const up = await upOrFail(stack, devOnCpu({ "ddpsim:nodes": 4, "ddpsim:scriptArgs": ["--steps", "20", "--log-every", "10"] }));
        assert.strictEqual(up.outputs.containerNames.length, 4);
        const result = await finishedRun(up.outputs, 4);
        assert.strictEqual(result.final_step, 20);
        assert.ok(result.final_loss < result.first_loss);
    });

    it("runs two stacks of the same program at the same time without collisions", async () => {
        const [a, b] = [newStack("twin-a"), newStack("twin-b")];
        const args = { "ddpsim:scriptArgs": ["--steps", "20"] };
        const [upA, upB] = await Promise.all([upStack(a, devOnCpu(args)), upStack(b, devOnCpu(args))]);
        assert.ok(upA.ok && upB.ok, `${upA.stderr}\n${upB.stderr}`);
        const names = [...upA.outputs.containerNames, ...upB.outputs.containerNames, upA.outputs.networkName, upB.outputs.networkName];
        assert.strictEqual(new Set(names).size, 6);
        assert.notStrictEqual(upA.outputs.checkpointVolumeName, upB.outputs.checkpointVolumeName);
        const [ra, rb] = await Promise.all([finishedRun(upA.outputs, 2), finishedRun(upB.outputs, 2)]);
        assert.strictEqual(ra.final_step, 20);
        assert.strictEqual(ra.checksum, rb.checksum, "the same seed on two clusters gives the same parameters");
    });

    for (const [role, rank] of [
        ["worker", 1],
        ["master", 0],
    ] as const) {
        it(`recovers from a crash of the ${role}: restart policy + torchrun, resume, same parameters`, async () => {
            assert.ok(reference, "needs the uninterrupted reference run");
            const stack = newStack(`crash-${role}`);
            const up = await upOrFail(stack, devOnCpu({ "ddpsim:scriptArgs": SLOW_ARGS }));
            const volume = up.outputs.checkpointVolumeName;
            await waitForStep(volume, 12);
            const victim = up.outputs.containerNames[rank];
            const crashedAt = Date.now() / 1000;
            await crashContainer(victim);

            const result = await finishedRun(up.outputs, 2);
            const restarts = (await docker.getContainer(victim).inspect()).RestartCount;
            assert.ok(restarts >= 1, `Docker restarted ${victim} ${restarts} times`);
            assert.ok(result.resumed_from_step !== null && result.resumed_from_step >= 10, JSON.stringify(result));
            assert.strictEqual(result.final_step, STEPS);
            assert.strictEqual(result.checksum, reference.checksum, "same parameters as the uninterrupted run");
            const resumedStep = (await metricsOf(volume)).find((m) => m.time > crashedAt && m.step === result.resumed_from_step! + 1);
            console.log(
                `      figure: ${(resumedStep!.time - crashedAt).toFixed(1)} s from the ${role}'s crash to its first ` +
                    `resumed step (step ${resumedStep!.step})`,
            );
        });
    }

    it("waits for a node stopped by `docker kill` (a manual stop), and finishes once it is started again", async () => {
        assert.ok(reference, "needs the uninterrupted reference run");
        const stack = newStack("dkill");
        const up = await upOrFail(stack, devOnCpu({ "ddpsim:scriptArgs": SLOW_ARGS }));
        const [master, worker] = up.outputs.containerNames;
        await waitForStep(up.outputs.checkpointVolumeName, 12);
        await run("docker", ["kill", worker]);

        // Docker does not restart a manually stopped container; the master's torchrun waits in the rendezvous.
        await new Promise((r) => setTimeout(r, 15_000));
        const [masterState, workerState] = await Promise.all([master, worker].map((n) => docker.getContainer(n).inspect()));
        assert.strictEqual(workerState.State.Status, "exited");
        assert.strictEqual(workerState.RestartCount, 0);
        assert.strictEqual(masterState.State.Running, true, "the master waits for the missing node");
        assert.ok(!(await volumeFiles(up.outputs.checkpointVolumeName)).includes("result.json"));

        await run("docker", ["start", worker]);
        const result = await finishedRun(up.outputs, 2);
        assert.strictEqual(result.checksum, reference.checksum);
    });

    it("holds the whole stopGraceSeconds on destroy: a checkpoint that takes 40 s is written (torchrun alone kills at 30 s)", async () => {
        const stack = newStack("grace");
        const slow = ["--steps", "200", "--checkpoint-every", "1000", "--step-sleep", "0.2", "--debug-slow-checkpoint", "40"];
        const up = await upOrFail(stack, devOnCpu({ "ddpsim:stopGraceSeconds": 75, "ddpsim:scriptArgs": slow }));
        const volume = up.outputs.checkpointVolumeName;
        const [master] = up.outputs.containerNames;
        await waitForStep(volume, 5);
        const started = Date.now();
        await destroyStack(stack); // stops every node with its destroyGraceSeconds (75)
        const seconds = (Date.now() - started) / 1000;
        console.log(`      figure: destroy took ${seconds.toFixed(1)} s with a 40 s checkpoint write`);
        const stopped = (await volumeFiles(volume)).filter((f) => /^ckpt-step\d+\.pt$/.test(f));
        assert.strictEqual(stopped.length, 1, `one checkpoint, the stop's: ${stopped}`);
        assert.ok(seconds >= 40, `destroy returned after ${seconds} s: the checkpoint could not have been written`);
        const metrics = await metricsOf(volume);
        assert.strictEqual(stopped[0], `ckpt-step${String(metrics[metrics.length - 1].step).padStart(8, "0")}.pt`);
        assert.ok(!(await stackObjects(PROJECT, stack)).containers.some((c) => c.Names.includes(`/${master}`)));
    });

    it("creates nothing on the engine for an invalid stack config", async () => {
        const stack = newStack("invalid");
        const up = await upStack(stack, devOnCpu({ "ddpsim:nodes": 0, "ddpsim:masterPort": 70000 }));
        assert.strictEqual(up.ok, false);
        assert.match(up.stderr, /ddpsim:nodes must be a whole number from 1 to 256, got 0/);
        assert.match(up.stderr, /ddpsim:masterPort must be a whole number from 1 to 65535, got 70000/);
        const found = await stackObjects(PROJECT, stack);
        assert.deepStrictEqual([found.containers.length, found.networks.length, found.volumes.length], [0, 0, 0]);
    });

    it("prints the cost of simulating separate nodes: 2 nodes against 2 ranks in one container", async function () {
        assert.ok(twoNodeMetrics, "needs the 2-node run");
        const volume = `ddpsim-e2e-standalone-${Date.now()}`;
        try {
            await run(
                "docker",
                [
                    "run", "--rm", "--shm-size", "2g", "-v", `${REPO_ROOT}/training:/workspace:ro`, "-v", `${volume}:/checkpoints`,
                    "-w", "/workspace", image,
                    "torchrun", "--standalone", "--nproc-per-node", "2", "train_ddp.py", "--checkpoint-dir", "/checkpoints",
                    ...TRAIN_ARGS,
                ],
                { maxBuffer: 64 * 1024 * 1024, timeout: 240_000 },
            );
            const metrics = await metricsOf(volume);
            const single = { steps: metrics.length - 1, seconds: metrics[metrics.length - 1].time - metrics[0].time };
            const rate = (m: { steps: number; seconds: number }) => m.steps / m.seconds;
            console.log(
                `      figure: steps/s 2 nodes ${rate(twoNodeMetrics).toFixed(1)}, one node x 2 ranks ` +
                    `${rate(single).toFixed(1)}, ratio ${(rate(twoNodeMetrics) / rate(single)).toFixed(2)}`,
            );
            assert.strictEqual((await resultOf(volume)).checksum, reference?.checksum, "same world size, same parameters");
        } finally {
            await run("docker", ["volume", "rm", "-f", volume]).catch(() => undefined);
        }
    });

    it("leaves nothing of the test stacks behind", async () => {
        await cleanUp(stacks);
        for (const stack of stacks) {
            const found = await stackObjects(PROJECT, stack);
            assert.deepStrictEqual([found.containers.length, found.networks.length, found.volumes.length], [0, 0, 0], stack);
        }
    });
});
