/**
 * Interruptions: a killed rank, a killed container, a corrupt checkpoint, SIGTERM. Each run must end with the
 * parameters of the uninterrupted reference run (same seed, world size 2), bit for bit.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ensureCpuImage } from "../support/cpuImage";
import {
    checkpointFiles,
    dockerCli,
    lastResult,
    logs,
    metricsSteps,
    REFERENCE_ARGS,
    referenceRun,
    ReferenceRun,
    taggedLines,
    torchrun,
    TrainingScope,
    waitExit,
    waitForStep,
} from "../support/trainingRuns";

/** `signal` to the worker with LOCAL_RANK=<rank>, from inside its container (SIGKILL: torchrun sees a crashed rank). */
function signalWorkerScript(localRank: number, signal = "KILL"): string {
    return (
        `for p in $(pgrep -f -- '-u train_ddp.py'); do ` +
        `if tr '\\0' '\\n' < /proc/$p/environ | grep -qx LOCAL_RANK=${localRank}; then kill -${signal} $p && echo signalled $p; fi; ` +
        `done`
    );
}

function killWorkerScript(localRank: number): string[] {
    return ["sh", "-c", signalWorkerScript(localRank)];
}

describe("training: interrupted runs resume and end exactly like an uninterrupted one", function () {
    this.timeout(240_000);
    let image: string;
    let ref: ReferenceRun;
    let scope: TrainingScope;

    before(async function () {
        this.timeout(1_200_000);
        image = await ensureCpuImage();
        ref = await referenceRun(image);
        assert.strictEqual(ref.result.agree, true);
    });
    beforeEach(() => {
        scope = new TrainingScope(image, "faults");
    });
    afterEach(async () => {
        await scope.cleanUp();
    });

    it("one rank killed mid-run: torchrun restarts the workers, they resume from the checkpoint", async () => {
        const checkpoints = scope.tempDir();
        const name = await scope.start({
            name: "killrank",
            checkpoints,
            command: torchrun({ nprocPerNode: 2, maxRestarts: 1 }, [...REFERENCE_ARGS, "--step-sleep", "0.15"]),
        });
        await waitForStep(checkpoints, 12);
        const kill = await dockerCli(["exec", name, ...killWorkerScript(1)]);
        assert.match(kill.stdout, /^signalled \d+$/m, kill.stdout + kill.stderr);
        assert.strictEqual(await waitExit(name, 180_000), 0);
        const { stdout } = await logs(name);
        const result = lastResult(stdout);
        assert.strictEqual(result.restarts, 1);
        assert.ok(result.resumed_from_step !== null && result.resumed_from_step >= 10 && result.resumed_from_step < 30,
            `resumed_from_step ${result.resumed_from_step}`);
        assert.strictEqual(result.final_step, 30);
        assert.strictEqual(result.agree, true);
        assert.strictEqual(result.checksum, ref.result.checksum, "same parameters as the uninterrupted run");
        assert.strictEqual(result.first_loss, ref.result.first_loss, "first_loss carried over in the checkpoint");
    });

    it("a container killed mid-run and started again resumes from its checkpoint", async () => {
        const checkpoints = scope.tempDir();
        const name = await scope.start({
            name: "killnode",
            checkpoints,
            command: torchrun({ nprocPerNode: 2 }, [...REFERENCE_ARGS, "--step-sleep", "0.15"]),
        });
        await waitForStep(checkpoints, 12);
        assert.strictEqual((await dockerCli(["kill", name])).code, 0);
        await waitExit(name, 30_000);
        const lastLogged = Math.max(...metricsSteps(checkpoints));
        assert.ok(lastLogged < 30, "killed before the end");
        assert.strictEqual((await dockerCli(["start", name])).code, 0);
        assert.strictEqual(await waitExit(name, 180_000), 0);
        const result = lastResult((await logs(name)).stdout);
        assert.strictEqual(result.restarts, 0, "a new torchrun, not a worker restart");
        assert.ok(result.resumed_from_step !== null && result.resumed_from_step >= 10 && result.resumed_from_step <= lastLogged,
            `resumed_from_step ${result.resumed_from_step}, last logged step ${lastLogged}`);
        assert.strictEqual(result.final_step, 30);
        assert.strictEqual(result.checksum, ref.result.checksum);
    });

    it("a corrupt newest checkpoint is skipped with a warning and set aside; the previous one is used", async () => {
        const checkpoints = scope.tempDir();
        const args = (steps: string) => REFERENCE_ARGS.map((a, i) => (REFERENCE_ARGS[i - 1] === "--steps" ? steps : a));
        const first = await scope.run({ name: "part1", checkpoints, command: torchrun({ nprocPerNode: 2 }, args("20")) });
        assert.strictEqual(first.code, 0, first.stderr);
        assert.deepStrictEqual(checkpointFiles(checkpoints).map(([s]) => s), [10, 15, 20]);
        const newest = path.join(checkpoints, "ckpt-step00000020.pt");
        const size = fs.statSync(newest).size;
        fs.truncateSync(newest, Math.floor(size / 2)); // a write cut short
        const second = await scope.run({ name: "part2", checkpoints, command: torchrun({ nprocPerNode: 2 }, args("30")) });
        assert.strictEqual(second.code, 0, second.stdout + second.stderr);
        assert.match(second.stderr, /\[rank 0\/2 node 0\] warning: skipping checkpoint \/checkpoints\/ckpt-step00000020\.pt: ValueError: truncated/);
        assert.match(second.stdout, /resuming from \/checkpoints\/ckpt-step00000015\.pt \(step 15\)/);
        const result = lastResult(second.stdout);
        assert.strictEqual(result.resumed_from_step, 15);
        assert.strictEqual(result.final_step, 30);
        assert.strictEqual(result.checksum, ref.result.checksum);
        assert.ok(fs.existsSync(`${newest}.corrupt`), "the damaged file is renamed, not counted among the kept");
        assert.deepStrictEqual(checkpointFiles(checkpoints).map(([s]) => s), [20, 25, 30]);
    });

    it("SIGTERM (docker stop) ends the step, writes a checkpoint, and a later start finishes the run", async () => {
        const checkpoints = scope.tempDir();
        const name = await scope.start({
            name: "sigterm",
            checkpoints,
            command: torchrun({ nprocPerNode: 2 }, [...REFERENCE_ARGS, "--step-sleep", "0.3"]),
        });
        await waitForStep(checkpoints, 4);
        assert.strictEqual((await dockerCli(["stop", "-t", "60", name], 90_000)).code, 0);
        const stopped = await logs(name);
        const [info] = taggedLines<{ step: number; signal: string; checkpoint: string }>(stopped.stdout, "DDPSIM_STOPPED");
        assert.ok(info !== undefined, stopped.stdout + stopped.stderr);
        assert.strictEqual(info.signal, "SIGTERM");
        assert.ok(info.step >= 4 && info.step < 30, `stopped at ${info.step}`);
        assert.match(stopped.stdout, new RegExp(`stopped by SIGTERM after step ${info.step}/30; checkpoint .* written; exiting 0`));
        assert.doesNotMatch(stopped.stderr, /\] error:/);
        const files = checkpointFiles(checkpoints);
        assert.strictEqual(files[files.length - 1][0], info.step, "the newest checkpoint is the stop step's");
        assert.ok(!fs.existsSync(path.join(checkpoints, "result.json")), "not finished");

        assert.strictEqual((await dockerCli(["start", name])).code, 0);
        assert.strictEqual(await waitExit(name, 180_000), 0);
        const result = lastResult((await logs(name)).stdout);
        assert.strictEqual(result.resumed_from_step, info.step);
        assert.strictEqual(result.final_step, 30);
        assert.strictEqual(result.checksum, ref.result.checksum);
    });

    // A node joining an elastic run makes each torchrun restart its own workers: the first SIGTERM stops every rank at
    // the same step (the per-step all-reduce), and a rank whose own SIGTERM is still coming must not exit 0 before it,
    // or its torchrun counts the node as finished and it never joins the next rendezvous.
    it("a rank stopped only by another rank's SIGTERM exits 0 once its own comes (within --peer-stop-wait)", async () => {
        const checkpoints = scope.tempDir();
        const name = await scope.start({
            name: "peerstop-both",
            checkpoints,
            command: torchrun({ nprocPerNode: 2 }, [...REFERENCE_ARGS, "--step-sleep", "0.3", "--peer-stop-wait", "20"]),
        });
        await waitForStep(checkpoints, 4);
        const signalled = await dockerCli(["exec", name, "sh", "-c", `${signalWorkerScript(0, "TERM")}; sleep 3; ${signalWorkerScript(1, "TERM")}`]);
        assert.match(signalled.stdout, /^signalled \d+\nsignalled \d+$/m, signalled.stdout + signalled.stderr);
        assert.strictEqual(await waitExit(name, 60_000), 0);
        const { stdout, stderr } = await logs(name);
        const [info] = taggedLines<{ step: number; signal: string }>(stdout, "DDPSIM_STOPPED");
        assert.strictEqual(info?.signal, "SIGTERM", stdout + stderr);
        assert.match(stdout, new RegExp(`^\\[rank 1/2 node 0\\] stopped after step ${info.step} by another rank's signal; its own SIGTERM came \\d+\\.\\d s later$`, "m"));
        assert.doesNotMatch(stderr, /\] error:/);
        assert.strictEqual(checkpointFiles(checkpoints).slice(-1)[0][0], info.step);
    });

    it("a rank stopped only by another rank's SIGTERM and never signalled itself fails, and torchrun's restart finishes the run", async () => {
        const checkpoints = scope.tempDir();
        const name = await scope.start({
            name: "peerstop-one",
            checkpoints,
            command: torchrun({ nprocPerNode: 2, maxRestarts: 1 }, [...REFERENCE_ARGS, "--step-sleep", "0.3", "--peer-stop-wait", "2"]),
        });
        await waitForStep(checkpoints, 4);
        const signalled = await dockerCli(["exec", name, "sh", "-c", signalWorkerScript(0, "TERM")]);
        assert.match(signalled.stdout, /^signalled \d+$/m, signalled.stdout + signalled.stderr);
        assert.strictEqual(await waitExit(name, 180_000), 0);
        const { stdout, stderr } = await logs(name);
        const [info] = taggedLines<{ step: number; signal: string }>(stdout, "DDPSIM_STOPPED");
        assert.strictEqual(info?.signal, "SIGTERM", stdout + stderr);
        assert.match(stderr, new RegExp(
            `\\[rank 1/2 node 0\\] error: PeerStopped: another rank was stopped by a signal after step ${info.step} and this one was not ` +
            `within 2 s \\(--peer-stop-wait\\): leaving so that torchrun restarts it into the next rendezvous`));
        const result = lastResult(stdout);
        assert.strictEqual(result.restarts, 1);
        assert.strictEqual(result.resumed_from_step, info.step);
        assert.strictEqual(result.final_step, 30);
        assert.strictEqual(result.checksum, ref.result.checksum, "same parameters as the uninterrupted run");
    });

    it("SIGTERM to the training process itself: checkpoint, then exit code 0", async () => {
        // One rank without torchrun (env:// as torchrun would set it), so the container's exit code is the program's.
        const checkpoints = scope.tempDir();
        const name = await scope.start({
            name: "sigterm-direct",
            checkpoints,
            env: { RANK: "0", WORLD_SIZE: "1", LOCAL_RANK: "0", LOCAL_WORLD_SIZE: "1", MASTER_ADDR: "127.0.0.1", MASTER_PORT: "29511" },
            command: ["python3", "train_ddp.py", "--checkpoint-dir", "/checkpoints", "--steps", "200", "--step-sleep", "0.3"],
        });
        await waitForStep(checkpoints, 3);
        assert.strictEqual((await dockerCli(["stop", "-t", "60", name], 90_000)).code, 0);
        assert.strictEqual(await waitExit(name, 10_000), 0);
        const { stdout } = await logs(name);
        const [info] = taggedLines<{ step: number }>(stdout, "DDPSIM_STOPPED");
        assert.ok(info !== undefined && info.step >= 3, stdout);
        assert.deepStrictEqual(checkpointFiles(checkpoints).slice(-1).map(([s]) => s), [info.step]);
    });
});
