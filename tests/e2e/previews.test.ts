/**
 * Previews that mean something in a pull request, through the real CLI: a stack deployed from one checkout and
 * previewed from a second checkout of the same commit at another path (as a CI runner does, with `npm run preview`)
 * shows no change; a code change shows as a new run; and the workflow's own preview step, run as the YAML writes it,
 * previews the dev stack (GPUs) on this machine, which has no nvidia runtime, as a hosted runner has none.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { spawn } from "child_process";
import { diagnostics, resourceChanges } from "../support/cliOutput";
import { stackConfig, uniqueStack, waitForExit } from "../support/clusterRuns";
import { ensureCpuImage } from "../support/cpuImage";
import { docker } from "../support/dockerObjects";
import { destroyStack, pulumi, removeStack, siblingCheckout, upStack, workspace, Workspace } from "../support/realStack";
import { REPO_ROOT } from "../support/stackFiles";

interface Step {
    name?: string;
    run?: string;
    shell?: string;
    env?: Record<string, string>;
}

/** Runs a shell command as GitHub Actions runs a `shell: bash` step (bash -eo pipefail), in a checkout. */
function runStep(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
        const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", command], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        child.on("close", (code) => resolve({ code, output }));
    });
}

describe("previews from another checkout, as a pull request's CI runs them (real CLI)", function () {
    this.timeout(600_000);
    let image: string;
    let laptop: Workspace;
    let runner: Workspace;
    const stack = uniqueStack("pr");
    let volume: string | undefined;

    /** `STACK=<stack> npm run preview` in a checkout: what the workflow's Preview step runs. */
    async function npmPreview(ws: Workspace, stackName: string): Promise<{ code: number | null; output: string }> {
        return runStep("npm run --silent preview -- --color never", ws.projectDir, { ...ws.env, STACK: stackName });
    }

    before(async function () {
        this.timeout(900_000);
        image = await ensureCpuImage();
        laptop = siblingCheckout(workspace(), path.join("home", "ann", "ddpsim"));
        runner = siblingCheckout(workspace(), path.join("ci", "runner", "work", "ddpsim", "ddpsim"));
    });

    after(async function () {
        this.timeout(180_000);
        await destroyStack(stack, laptop).catch(() => undefined);
        await removeStack(stack, laptop).catch(() => undefined);
        if (volume !== undefined) await docker.getVolume(volume).remove().catch(() => undefined);
    });

    it("deployed from one checkout, npm run preview from another path shows no change", async () => {
        const config = stackConfig("cpu", { "ddpsim:image": image, "ddpsim:stopGraceSeconds": 5, "ddpsim:scriptArgs": ["--steps", "4"] });
        const up = await upStack(stack, config, 300_000, laptop);
        assert.ok(up.ok, up.stderr);
        volume = up.outputs.checkpointVolumeName;
        assert.deepStrictEqual(await waitForExit(up.outputs.containerNames, 300_000), [0, 0]);
        const mounts = (await docker.getContainer(up.outputs.containerNames[0]).inspect()).Mounts;
        assert.ok(mounts.some((m) => m.Source === path.join(laptop.projectDir, "training")), "the laptop's code folder is mounted");

        // The same commit elsewhere: the stack file (with its salt) comes with the checkout.
        fs.copyFileSync(path.join(laptop.projectDir, `Pulumi.${stack}.yaml`), path.join(runner.projectDir, `Pulumi.${stack}.yaml`));
        const preview = await npmPreview(runner, stack);
        assert.strictEqual(preview.code, 0, preview.output);
        assert.deepStrictEqual(resourceChanges(preview.output), { same: 8 }, preview.output);

        // A plain `pulumi preview` there tells the truth about an update from that folder: a new run (the run id's
        // hostPaths keeper) whose nodes mount that folder (the provider calls the mount change an update).
        const plain = JSON.parse((await pulumi(["preview", "--json", "--stack", stack], { ws: runner })).stdout).changeSummary;
        assert.deepStrictEqual([plain.same, plain.replace + (plain.update ?? 0) - 1], [5, 2], JSON.stringify(plain));
    });

    it("a change to the code in codeDir shows up: the run id and the nodes replaced, their code label changed", async () => {
        fs.appendFileSync(path.join(runner.projectDir, "training", "train_ddp.py"), "\n# a change under review\n");
        const preview = await npmPreview(runner, stack);
        assert.strictEqual(preview.code, 0, preview.output);
        assert.deepStrictEqual(resourceChanges(preview.output), { replace: 3, same: 5 }, preview.output);
        assert.match(preview.output, /~ labels[\s\S]*?ddpsim\.code/);
        assert.doesNotMatch(preview.output, /~ source/, "the mount's host path is not what changed");
    });

    it("the workflow's Preview step, run as written, previews the dev stack (GPUs) where there is no nvidia runtime", async () => {
        const workflow = parse(fs.readFileSync(path.join(REPO_ROOT, ".github", "workflows", "preview.yml"), "utf8"));
        const step = (workflow.jobs.preview.steps as Step[]).find((s) => s.name === "Preview");
        assert.ok(step?.run !== undefined && step.shell === "bash", "the workflow has a bash Preview step");
        assert.strictEqual(step.env?.STACK, "dev");
        const dev = siblingCheckout(workspace(), path.join("ci", "runner", "dev", "ddpsim"));
        fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), path.join(dev.projectDir, "Pulumi.dev.yaml"));
        try {
            const ran = await runStep(step.run, dev.projectDir, { ...dev.env, ...step.env });
            assert.strictEqual(ran.code, 0, ran.output);
            const written = fs.readFileSync(path.join(dev.projectDir, "preview.txt"), "utf8");
            // stack, component, suffix, run id, network, volume, the image built from training/, two GPU containers
            assert.deepStrictEqual(resourceChanges(written), { create: 9 }, written);
            assert.match(written, /deviceRequests[\s\S]*?"0"[\s\S]*?deviceRequests[\s\S]*?"1"/);
            // With --diff the CLI prints diagnostics where they happen, not in a section of their own.
            assert.match(written, /^warning: gpusPerNode asks for GPUs, but docker info lists no nvidia runtime .*\(not an error in a portable preview/m);

            // Without the portable mode, the same stack is refused here, naming the key and the way out.
            const plain = await pulumi(["preview", "--stack", "dev"], { ws: dev });
            assert.notStrictEqual(plain.code, 0);
            assert.match(diagnostics(plain.output).errors.join("\n"), /ddpsim:gpusPerNode asks for GPUs, but .*STACK=cpu npm run up/);
        } finally {
            await pulumi(["stack", "rm", "dev", "--force", "--yes", "--preserve-config"], { ws: dev });
        }
    });

    it("refuses an update made with DDPSIM_PORTABLE_PREVIEW set: it is for previews only", async () => {
        const up = await pulumi(["up", "--yes", "--skip-preview", "--stack", stack], { ws: runner, env: { DDPSIM_PORTABLE_PREVIEW: "1" } });
        assert.notStrictEqual(up.code, 0);
        assert.deepStrictEqual(diagnostics(up.output).errors, [
            "error: DDPSIM_PORTABLE_PREVIEW is set, which is for `pulumi preview` on a machine other than the Docker host " +
                "(npm run preview): unset it to update the cluster",
        ]);
    });
});
