/**
 * The stack program on disk through the real Pulumi CLI and Node.js language host, as a user runs it: `pulumi up`,
 * `pulumi preview --diff`, a second `up` that replaces and resumes, `pulumi destroy` keeping the run volume, and what
 * the CLI prints for configuration errors (of the stack and of another program that uses DdpCluster).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { logsOf, resultOf, stackConfig, uniqueStack, waitForExit } from "../support/clusterRuns";
import { ensureCpuImage } from "../support/cpuImage";
import { docker, stackObjects } from "../support/dockerObjects";
import { destroyStack, ensureStack, pulumi, PROJECT, removeStack, stackOutputs, upStack, workspace, writeStackFile } from "../support/realStack";
import { REPO_ROOT } from "../support/stackFiles";
import { diagnostics, resourceChanges } from "../support/cliOutput";

describe("pulumi up, preview and destroy of the program on disk (real CLI, Node.js language host, docker provider)", function () {
    this.timeout(600_000);
    let image: string;
    const stacks: string[] = [];

    function cpu(overrides: Record<string, unknown>): Record<string, unknown> {
        return stackConfig("cpu", { "ddpsim:image": image, "ddpsim:stopGraceSeconds": 5, ...overrides });
    }

    before(async function () {
        this.timeout(900_000);
        image = await ensureCpuImage();
    });

    after(async function () {
        this.timeout(180_000);
        for (const stack of stacks) await removeStack(stack).catch(() => undefined);
    });

    describe("a 2-node CPU cluster, brought up, changed, resumed and destroyed", function () {
        const stack = uniqueStack("engine");
        let containerNames: string[];
        let volume: string;
        stacks.push(stack);

        async function finishedRun(): Promise<{ final_step: number; resumed_from_step: number | null }> {
            const codes = await waitForExit(containerNames, 300_000);
            if (codes.some((c) => c !== 0)) {
                const logs = await Promise.all(containerNames.map(logsOf));
                assert.fail(`exit codes ${codes}:\n${logs.join("\n-----\n").slice(-6000)}`);
            }
            const result = await resultOf(volume);
            assert.strictEqual(result.world_size, 2);
            assert.strictEqual(result.agree, true);
            return result;
        }

        it("pulumi up creates the cluster and returns once its containers run (no wait on health), and the run trains", async () => {
            const up = await upStack(stack, cpu({ "ddpsim:scriptArgs": ["--steps", "20", "--checkpoint-every", "5"] }));
            assert.ok(up.ok, up.stderr);
            // the stack, the component, the suffix, the run id, the network, the volume and two containers
            assert.deepStrictEqual(resourceChanges(up.stderr), { create: 8 });
            containerNames = up.outputs.containerNames;
            volume = up.outputs.checkpointVolumeName;
            assert.strictEqual(containerNames.length, 2);
            const states = await Promise.all(containerNames.map((n) => docker.getContainer(n).inspect()));
            assert.ok(states.every((s) => s.State.Running || s.State.Status === "exited"), JSON.stringify(states.map((s) => s.State)));
            const result = await finishedRun();
            assert.strictEqual(result.final_step, 20);
            assert.strictEqual(result.resumed_from_step, null);
        });

        it("pulumi preview --diff after a scriptArgs change shows a new run: the run id and the two containers replaced, nothing else", async () => {
            writeStackFile(stack, cpu({ "ddpsim:scriptArgs": ["--steps", "30", "--checkpoint-every", "5"] }));
            const summary = await pulumi(["preview", "--json", "--stack", stack]);
            assert.strictEqual(summary.code, 0, summary.stderr);
            assert.deepStrictEqual(JSON.parse(summary.stdout).changeSummary, { same: 5, replace: 3 });
            const preview = await pulumi(["preview", "--diff", "--stack", stack]);
            assert.match(preview.stdout, /\+-random:index\/randomId:RandomId: \(replace\)[\s\S]*?~ keepers/);
            // Each container: `+-docker:index/container:Container: (replace)`, its URN, and `~ command` alone.
            const blocks = preview.stdout.split(/\n(?=\s+[-+~]*[a-z]+:[a-z]+[:/])/i).filter((b) => b.includes("docker:index/container:Container: (replace)"));
            // The two nodes are planned together, so the preview may list either first.
            assert.deepStrictEqual(blocks.map((b) => /::(ddp-node-\d+)\]/.exec(b)?.[1]).sort(), ["ddp-node-0", "ddp-node-1"], preview.stdout);
            for (const block of blocks) {
                assert.match(block, /^\s+\+-docker:index\/container:Container: \(replace\)/);
                // The command changed (the environment follows the new run id, which the preview cannot know yet).
                assert.deepStrictEqual(block.match(/^\s+[~+-]{1,2} [a-zA-Z]+:/gm)?.map((l) => l.trim()), ["~ command:"], block);
                assert.match(block, /~ \[\d+\]: "20" => "30"/);
            }
        });

        it("a second pulumi up with more steps replaces the containers and resumes from the checkpoint", async () => {
            const up = await upStack(stack, cpu({ "ddpsim:scriptArgs": ["--steps", "30", "--checkpoint-every", "5"] }));
            assert.ok(up.ok, up.stderr);
            assert.deepStrictEqual(resourceChanges(up.stderr), { replace: 3, same: 5 });
            containerNames = up.outputs.containerNames;
            const result = await finishedRun();
            assert.strictEqual(result.final_step, 30);
            assert.strictEqual(result.resumed_from_step, 20);
        });

        it("pulumi destroy removes the containers and the network and keeps the checkpoint volume", async () => {
            const destroyed = await destroyStack(stack);
            assert.deepStrictEqual(resourceChanges(destroyed.stdout), { delete: 8 });
            const left = await stackObjects(PROJECT, stack);
            assert.deepStrictEqual(left.containers.map((c) => c.Names), []);
            assert.deepStrictEqual(left.networks.map((n) => n.Name), []);
            assert.deepStrictEqual(left.volumes.map((v) => v.Name), [volume]);
            assert.ok(fs.existsSync(path.join((await docker.getVolume(volume).inspect()).Mountpoint, "result.json")));
            assert.deepStrictEqual(await stackOutputs(stack), {});
            await docker.getVolume(volume).remove();
        });
    });

    it("bad stack config: pulumi up prints the message alone, every bad key named, and creates nothing", async () => {
        const stack = uniqueStack("badconfig");
        stacks.push(stack);
        const up = await upStack(stack, cpu({ "ddpsim:nodes": 0, "ddpsim:masterPort": 70000 }));
        assert.strictEqual(up.ok, false);
        assert.deepStrictEqual(diagnostics(up.stderr).errors, [
            `error: Invalid stack config for stack "${stack}":`,
            "  - ddpsim:nodes must be a whole number from 1 to 256, got 0",
            "  - ddpsim:masterPort must be a whole number from 1 to 65535, got 70000",
        ]);
        assert.doesNotMatch(up.stderr, /unhandled exception|^\s+at /im, "no JavaScript stack");
        const left = await stackObjects(PROJECT, stack);
        assert.strictEqual(left.containers.length + left.networks.length + left.volumes.length, 0);
    });

    it("bad DdpCluster arguments in another team's program: pulumi up prints the message alone", async () => {
        const ws = workspace();
        const dir = path.join(ws.projectDir, "tests", "fixtures", "programs", "bad-cluster");
        fs.cpSync(path.join(REPO_ROOT, "tests", "fixtures", "programs", "bad-cluster"), dir, { recursive: true });
        fs.cpSync(path.join(REPO_ROOT, "bin"), path.join(ws.projectDir, "bin"), { recursive: true });
        const stack = uniqueStack("other");
        await ensureStack(stack, ws, dir);
        const up = await pulumi(["up", "--yes", "--skip-preview", "--stack", stack], { ws, cwd: dir });
        assert.notStrictEqual(up.code, 0);
        assert.deepStrictEqual(diagnostics(up.stdout).errors, [
            'error: Invalid arguments for DdpCluster "trainers":',
            "  - nodes must be a whole number from 1 to 256, got 0",
            "  - masterPort must be a whole number from 1 to 65535, got 70000",
        ]);
        assert.doesNotMatch(up.stdout + up.stderr, /unhandled exception|^\s+at /im, "no JavaScript stack");
        await pulumi(["stack", "rm", stack, "--force", "--yes"], { ws, cwd: dir });
    });
});
