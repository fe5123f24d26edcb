/**
 * Training code that ddpsim did not shape, run unchanged on the real Docker engine (CPU image): the run contract
 * (exact arguments, shared writable working directory, read-only importable code, `module`), deterministic
 * failures that stop with a verdict instead of crash-looping, no false success, and ranks that are true.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ensureCpuImage } from "../support/cpuImage";
import { docker, stackObjects } from "../support/dockerObjects";
import {
    cleanUp,
    crashContainer,
    logsOf,
    resultOf,
    stackConfig,
    uniqueStack,
    upStack,
    volumeDir,
    volumeFiles,
    waitForExit,
} from "../support/clusterRuns";
import { destroyStack, PROJECT } from "../support/realStack";
import { REPO_ROOT } from "../support/stackFiles";
import { waitFor } from "../support/wait";

const SCRIPTS = path.join(REPO_ROOT, "tests", "fixtures", "scripts");

interface Verdict {
    node: string;
    rank: number;
    exitCode: number;
    error: string;
    reason: string;
    time: number;
    stoppedBy?: string;
}

function verdictsIn(log: string): Verdict[] {
    return log
        .split("\n")
        .filter((l) => l.startsWith("DDPSIM_VERDICT "))
        .map((l) => JSON.parse(l.slice("DDPSIM_VERDICT ".length)));
}

describe("your own training code on the cluster (CPU image)", function () {
    this.timeout(300_000);
    let image: string;
    const stacks: string[] = [];

    before(async function () {
        this.timeout(900_000);
        image = await ensureCpuImage();
    });

    after(async () => {
        await cleanUp(stacks);
    });

    /** Brings a CPU stack up with these ddpsim: settings; fails the test if `up` fails. */
    async function upWith(label: string, settings: Record<string, unknown>) {
        const stack = uniqueStack(label);
        stacks.push(stack);
        const up = await upStack(stack, stackConfig("cpu", { "ddpsim:image": image, ...settings }));
        assert.ok(up.ok, `up failed: ${up.stderr}`);
        return { stack, outputs: up.outputs, names: up.outputs.containerNames as string[] };
    }

    async function allLogs(names: string[]): Promise<string[]> {
        return Promise.all(names.map(logsOf));
    }

    async function expectSuccess(names: string[]): Promise<string[]> {
        const codes = await waitForExit(names);
        const logs = await allLogs(names);
        assert.deepStrictEqual(codes, names.map(() => 0), logs.join("\n-----\n").slice(-5000));
        assert.ok(logs.every((l) => verdictsIn(l).length === 0));
        return logs;
    }

    it("runs the origin write-up's minimal script unchanged (no arguments, gloo)", async () => {
        const { names } = await upWith("origin", { "ddpsim:codeDir": path.join(SCRIPTS, "origin"), "ddpsim:script": "train_ddp.py" });
        const [master] = await expectSuccess(names);
        const steps = [...master.matchAll(/^step (\d+), loss [\d.]+, local rank 0$/gm)].map((m) => Number(m[1]));
        assert.deepStrictEqual(steps, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    });

    it("runs a tutorial-style trainer unchanged, and after a worker crash it resumes from its own relative snapshot", async () => {
        const { outputs, names } = await upWith("tutorial", {
            "ddpsim:codeDir": path.join(SCRIPTS, "tutorial"),
            "ddpsim:script": "multinode.py",
            "ddpsim:scriptArgs": ["60", "1", "--batch_size", "8"],
        });
        const volume = outputs.checkpointVolumeName;
        await waitFor("epoch 4 of the tutorial trainer", 120_000, async () =>
            /\[GPU0\] Epoch 4 \|/.test(await logsOf(names[0])) ? true : undefined,
        );
        await crashContainer(names[1]);
        const logs = await expectSuccess(names);
        assert.ok((await docker.getContainer(names[1]).inspect()).RestartCount >= 1, "Docker restarted the crashed worker");
        // Both ranks reloaded snapshot.pt (epoch 3 or later: epoch 4 had begun), which rank 0 wrote to its working
        // directory: shared, and kept.
        for (const log of logs) {
            const resumed = [...log.matchAll(/^Resuming training from snapshot at Epoch (\d+)$/gm)].map((m) => Number(m[1]));
            assert.ok(resumed.length >= 1 && resumed.every((e) => e >= 3), `resumed at ${resumed} in:\n${log.slice(-3000)}`);
            assert.match(log, /\[GPU\d\] Epoch 59 \| Batchsize: 8 \| Steps: 128/);
        }
        assert.ok((await volumeFiles(volume)).includes("snapshot.pt"));
    });

    it("starts a package with `module` from a code layer (codeMode image): python -m, local imports, the environment", async () => {
        const { outputs, names } = await upWith("module", {
            "ddpsim:codeDir": path.join(SCRIPTS, "modpkg"),
            "ddpsim:codeMode": "image",
            "ddpsim:module": "ddpapp.train",
            "ddpsim:scriptArgs": ["--steps", "15"],
        });
        const node = await docker.getContainer(names[0]).inspect();
        assert.match(node.Config.Image, /-code:[0-9a-f]{16}$/, "the code layer");
        assert.ok(node.Mounts.every((m) => m.Type === "volume"), "no host path mounted");
        const logs = await expectSuccess(names);
        const sums = logs.map((l) => l.match(/ddpapp rank (\d) done after 15 steps, parameter sum (-?[\d.]+)/));
        assert.ok(sums.every((m) => m !== null), logs.join("\n"));
        assert.strictEqual(sums[0]![2], sums[1]![2], "DDP kept the ranks equal");
        assert.ok((await volumeFiles(outputs.checkpointVolumeName)).includes("ddpapp.pt"));
    });

    it("stops a usage error within 60 s with a verdict, instead of crash-looping", async () => {
        const { names } = await upWith("usage", {
            "ddpsim:codeDir": path.join(SCRIPTS, "tutorial"),
            "ddpsim:script": "multinode.py",
            "ddpsim:scriptArgs": ["abc", "1"],
        });
        const started = Math.min(
            ...(await Promise.all(names.map(async (n) => Date.parse((await docker.getContainer(n).inspect()).State.StartedAt)))),
        );
        const codes = await waitForExit(names, 120_000);
        const logs = await allLogs(names);
        const error = "multinode.py: error: argument total_epochs: invalid int value: 'abc'";
        const first = verdictsIn(logs[0])[0] ?? verdictsIn(logs[1])[0];
        assert.ok(first !== undefined, logs.join("\n-----\n"));
        assert.strictEqual(first.error, error);
        const seconds = first.time - started / 1000;
        console.log(`      figure: verdict ${seconds.toFixed(1)} s after the first node started`);
        assert.ok(seconds < 60, `verdict after ${seconds.toFixed(1)} s`);
        for (const [rank, log] of logs.entries()) {
            // Each node's script ran at most twice (torchrun may restart it once before the agent ends torchrun).
            const runs = log.split("\n").filter((l) => l === error).length;
            assert.ok(runs <= 2, `node ${rank} ran the script ${runs} times`);
            assert.ok(codes[rank] === 2 || codes[rank] === 143, `node ${rank} exit ${codes[rank]}`);
            const own = verdictsIn(log)[0];
            assert.strictEqual(own.error, error);
        }
        const restarts = await Promise.all(names.map(async (n) => (await docker.getContainer(n).inspect()).RestartCount));
        // Docker restarts a failed container (restartRetries, 5); each restart only repeats the verdict.
        assert.ok(restarts.every((r) => r <= 5), `restarts ${restarts}`);
    });

    it("ends an injected parameter mismatch as a failure that no restart or new deployment turns into success", async () => {
        const settings = { "ddpsim:scriptArgs": ["--steps", "8", "--debug-perturb-rank", "1"] };
        const { stack, outputs, names } = await upWith("mismatch", settings);
        const codes = await waitForExit(names);
        const logs = await allLogs(names);
        // A node whose own trainer exits 3 fails with 3; one that sees the other's verdict first stops with 143.
        assert.ok(codes.includes(3) && codes.every((c) => c === 3 || c === 143), `${codes}\n${logs.join("\n-----\n").slice(-4000)}`);
        const result = await resultOf(outputs.checkpointVolumeName);
        assert.strictEqual(result.agree, false);
        const failed = verdictsIn(logs.join("\n")).find((v) => v.stoppedBy === undefined)!;
        assert.deepStrictEqual([failed.exitCode, failed.reason], [3, "exit code 3 is in failFastExitCodes [2, 3]"]);
        assert.match(failed.error, /^\[rank \d\/2 node \d\] error: parameter checksums differ across ranks: /);
        assert.ok(!(await volumeFiles(outputs.checkpointVolumeName)).includes("ckpt-step00000008.pt"), "the final step is not saved");

        // A new deployment on the same volume (destroy, up) refuses to resume the failed run.
        await destroyStack(stack);
        const again = await upStack(stack, stackConfig("cpu", { "ddpsim:image": image, ...settings }));
        assert.ok(again.ok, again.stderr);
        const secondNames = again.outputs.containerNames as string[];
        const secondCodes = await waitForExit(secondNames);
        assert.ok(secondCodes.includes(3) && secondCodes.every((c) => c === 3 || c === 143), `${secondCodes}`);
        assert.match((await allLogs(secondNames)).join("\n"), /an earlier attempt of this run ended with ranks disagreeing on the parameters/);
        assert.strictEqual((await resultOf(again.outputs.checkpointVolumeName)).agree, false);
    });

    it("gives 12 nodes host names whose order is the rank order: every label is the GROUP_RANK torchrun gave", async function () {
        this.timeout(600_000);
        const { outputs, names } = await upWith("twelve", {
            "ddpsim:nodes": 12,
            "ddpsim:codeDir": path.join(SCRIPTS, "probe"),
            "ddpsim:script": "report.py",
            "ddpsim:shmSizeMb": 256,
        });
        const logs = await expectSuccess(names);
        const labels = await Promise.all(names.map(async (n) => (await docker.getContainer(n).inspect()).Config.Labels));
        for (const [i, log] of logs.entries()) {
            const probe = log.match(/^PROBE host=(\S+) GROUP_RANK=(\d+) RANK=(\d+) NODE_RANK=(\d+) WORLD_SIZE=(\d+) sum=(\d+) cwd=(\S+) code=(\S+)$/m);
            assert.ok(probe, log);
            const [, host, groupRank, rank, nodeRank, world, sum, cwd, code] = probe;
            assert.strictEqual(labels[i]["ddpsim.rank"], groupRank, `${names[i]}: label ${labels[i]["ddpsim.rank"]}, GROUP_RANK ${groupRank}`);
            assert.deepStrictEqual([host, rank, nodeRank], [labels[i]["ddpsim.node"], groupRank, groupRank]);
            assert.deepStrictEqual([world, sum, cwd, code], ["12", "12", "/workspace", "read-only"]);
        }
        assert.deepStrictEqual(
            (outputs.nodes as { rank: number; hostname: string }[]).map((n) => n.hostname),
            Array.from({ length: 12 }, (_, r) => `ddp-node-${String(r).padStart(2, "0")}`),
        );
        assert.ok(!fs.existsSync(path.join(await volumeDir(outputs.checkpointVolumeName), "written-by-a-node")));
    });

    it("leaves nothing of its stacks behind", async () => {
        await cleanUp(stacks);
        for (const stack of stacks) {
            const found = await stackObjects(PROJECT, stack);
            assert.deepStrictEqual([found.containers.length, found.networks.length, found.volumes.length], [0, 0, 0], stack);
        }
    });
});
