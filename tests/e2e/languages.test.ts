/**
 * DdpCluster from other languages, through the real Pulumi CLI and each language's real host, as a user runs the
 * examples (docs/components.md): examples/yaml-cluster (pulumi-language-yaml) and examples/python-cluster
 * (pulumi-language-python, with the SDK pulumi-gen-python generates), the component served by
 * scripts/pulumi-resource-ddpsim. `pulumi up` brings a 2-node CPU cluster up, it trains to the end, `pulumi destroy`
 * keeps only the run volume; a bad argument prints the component's message. And what does not run here: the three
 * ways `pulumi package add` stops with these language hosts, pinned so that a host that gains them fails the test.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { diagnostics, resourceChanges } from "../support/cliOutput";
import { logsOf, resultOf, uniqueStack, waitForExit } from "../support/clusterRuns";
import { ensureCpuImage } from "../support/cpuImage";
import { docker, purgeStack, stackObjects } from "../support/dockerObjects";
import { exampleIn, PLUGIN_FROM_EXAMPLE, preparePythonExample, pythonWheels } from "../support/examplePrograms";
import { CliResult, ensureStack, pulumi, workspace, Workspace } from "../support/realStack";

interface Example {
    project: string;
    dir: string;
    env: NodeJS.ProcessEnv;
}

/** The lines of a command's output that start with `error: ` (what `pulumi package add` prints outside an update). */
function errorLines(output: string): string[] {
    return output.split("\n").filter((line) => line.startsWith("error: ")).map((line) => line.trimEnd());
}

const BAD_NODES = [
    `error: ddpsim:index:DdpCluster resource 'trainers' has a problem: Invalid arguments for DdpCluster "trainers":`,
    "  - nodes must be a whole number from 1 to 256, got 0",
    "\t\t- property nodes with value 0 has a problem: nodes must be a whole number from 1 to 256, got 0",
];

describe("DdpCluster from YAML and Python programs (real CLI, YAML and Python language hosts, the ddpsim plugin)", function () {
    this.timeout(600_000);
    let ws: Workspace;
    let image: string;
    const made: Array<{ project: string; stack: string; dir: string; env: NodeJS.ProcessEnv }> = [];

    function run(example: Example, args: string[], timeoutMs?: number): Promise<CliResult> {
        return pulumi(args, { ws, cwd: example.dir, env: example.env, timeoutMs });
    }

    /** `pulumi stack init` and `pulumi config set` for each setting, in the example's folder. */
    async function newStack(example: Example, label: string, config: Record<string, string>): Promise<string> {
        const stack = uniqueStack(label);
        made.push({ project: example.project, stack, dir: example.dir, env: example.env });
        await ensureStack(stack, { ...ws, env: { ...ws.env, ...example.env } }, example.dir);
        for (const [key, value] of Object.entries(config)) {
            const set = await run(example, ["config", "set", key, value, "--stack", stack]);
            assert.strictEqual(set.code, 0, set.output);
        }
        return stack;
    }

    before(async function () {
        this.timeout(1_200_000);
        image = await ensureCpuImage();
        ws = workspace();
    });

    after(async function () {
        this.timeout(180_000);
        for (const { project, stack, dir, env } of made) {
            await pulumi(["stack", "rm", stack, "--force", "--yes"], { ws, cwd: dir, env }).catch(() => undefined);
            await purgeStack(project, stack).catch(() => undefined);
        }
    });

    /** up, the run to its end, destroy: what both examples must do. */
    async function upTrainDestroy(example: Example): Promise<void> {
        const stack = await newStack(example, example.project, { image });
        const up = await run(example, ["up", "--yes", "--skip-preview", "--stack", stack]);
        console.log(`      pulumi up: ${up.seconds.toFixed(1)}s`);
        assert.strictEqual(up.code, 0, up.output);
        // the stack, the component, the suffix, the run id, the network, the volume and two containers
        assert.deepStrictEqual(resourceChanges(up.output), { create: 8 });
        const outputs = JSON.parse((await run(example, ["stack", "output", "--json", "--stack", stack])).stdout);
        const names: string[] = outputs.containerNames;
        const volume: string = outputs.checkpointVolumeName;
        assert.strictEqual(names.length, 2);
        assert.ok(names.every((n) => n.startsWith(`${example.project}-${stack}-trainers-`)), names.join(" "));

        let started = Date.now();
        const codes = await waitForExit(names, 300_000);
        console.log(`      nodes done ${((Date.now() - started) / 1000).toFixed(1)}s after up`);
        const rank0 = await logsOf(names[0]);
        assert.deepStrictEqual(codes, [0, 0], rank0.slice(-4000));
        assert.match(rank0, /done: world size 2 \(2 node\(s\)\), step 20, all ranks agree on parameter checksum [0-9a-f]+/);
        const result = await resultOf(volume);
        assert.deepStrictEqual([result.world_size, result.final_step, result.agree], [2, 20, true]);

        started = Date.now();
        const destroyed = await run(example, ["destroy", "--yes", "--skip-preview", "--stack", stack]);
        console.log(`      pulumi destroy: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        assert.strictEqual(destroyed.code, 0, destroyed.output);
        assert.deepStrictEqual(resourceChanges(destroyed.output), { delete: 8 });
        const left = await stackObjects(example.project, stack);
        assert.deepStrictEqual(left.containers.map((c) => c.Names), []);
        assert.deepStrictEqual(left.networks.map((n) => n.Name), []);
        // retainCheckpoints: the run volume stays, with the run's result in it
        assert.deepStrictEqual(left.volumes.map((v) => v.Name), [volume]);
        assert.ok(fs.existsSync(path.join((await docker.getVolume(volume).inspect()).Mountpoint, "result.json")));
        await docker.getVolume(volume).remove();
    }

    /** `nodes: 0` from the program's config: the update fails with the component's message and creates nothing. */
    async function badNodes(example: Example): Promise<{ errors: string[]; output: string }> {
        const stack = await newStack(example, `${example.project}-bad`, { image, nodes: "0" });
        const up = await run(example, ["up", "--yes", "--skip-preview", "--stack", stack]);
        assert.notStrictEqual(up.code, 0, up.output);
        const left = await stackObjects(example.project, stack);
        assert.strictEqual(left.containers.length + left.networks.length + left.volumes.length, 0);
        return { errors: diagnostics(up.output).errors, output: up.output };
    }

    describe("examples/yaml-cluster", function () {
        let yaml: Example;

        before(function () {
            yaml = { project: "yaml-cluster", dir: exampleIn(ws, "yaml-cluster"), env: {} };
        });

        it("pulumi up brings the 2-node CPU cluster up, it trains to the end, pulumi destroy keeps only the run volume", async () => {
            await upTrainDestroy(yaml);
        });

        it("a bad argument: the component's message, naming the property, and nothing created", async () => {
            assert.deepStrictEqual((await badNodes(yaml)).errors, BAD_NODES);
        });
    });

    describe("examples/python-cluster (SDK from pulumi-gen-python)", function () {
        let python: Example;

        before(function () {
            this.timeout(900_000);
            const dir = exampleIn(ws, "python-cluster");
            const started = Date.now();
            python = { project: "python-cluster", dir, env: preparePythonExample(dir, ws, pythonWheels()) };
            console.log(`      SDK generated, virtualenv made and installed in ${((Date.now() - started) / 1000).toFixed(1)}s`);
        });

        it("pulumi up brings the 2-node CPU cluster up, it trains to the end, pulumi destroy keeps only the run volume", async () => {
            await upTrainDestroy(python);
        });

        it("a bad argument: the component's message, then the Python SDK's traceback of the stopped update", async () => {
            const { errors, output } = await badNodes(python);
            assert.deepStrictEqual(errors.slice(0, 3), BAD_NODES);
            // The Python SDK (3.272) turns the engine's "resource monitor shut down" into an unhandled exception,
            // which it prints only when it wins the race with the engine's own exit: if printed, it comes last.
            const traceback = errors.slice(3);
            if (traceback.length > 0) {
                assert.strictEqual(traceback[0], "error: Program failed with an unhandled exception:", output);
                assert.match(output, /^ {4}Exception: resource monitor shut down$/m);
            }
        });
    });

    describe("pulumi package add, which these language hosts cannot finish (pinned: each assertion fails when it starts working)", function () {
        it("from YAML, of the plugin executable: the SDK (a YAML package file) is written, then the YAML host has no Link", async () => {
            const example = { project: "yaml-cluster", dir: exampleIn(ws, "yaml-cluster", "yaml-package-add"), env: {} };
            const added = await run(example, ["package", "add", PLUGIN_FROM_EXAMPLE]);
            assert.notStrictEqual(added.code, 0);
            assert.deepStrictEqual(errorLines(added.output), ["error: linking package: method Link not implemented"]);
            assert.ok(fs.existsSync(path.join(example.dir, "sdks", "ddpsim", "ddpsim-0.1.0.yaml")));
        });

        it("from Python, of the plugin executable: the v3.68 Python host has no GeneratePackage", async () => {
            const example = { project: "python-cluster", dir: exampleIn(ws, "python-cluster", "python-package-add"), env: {} };
            const added = await run(example, ["package", "add", PLUGIN_FROM_EXAMPLE]);
            assert.notStrictEqual(added.code, 0);
            assert.deepStrictEqual(errorLines(added.output), ["error: failed to generate SDK: method GeneratePackage not implemented"]);
        });

        it("of a source plugin folder (PulumiPlugin.yaml, runtime nodejs): the v3.68 Node.js host answers RunPlugin with 'not supported'", async () => {
            // A package with nothing to install stands for this repository: the host refuses before reading the package.
            const plugin = path.join(path.dirname(ws.projectDir), "source-plugin");
            fs.mkdirSync(plugin, { recursive: true });
            fs.writeFileSync(path.join(plugin, "PulumiPlugin.yaml"), "runtime: nodejs\n");
            fs.writeFileSync(path.join(plugin, "package.json"), JSON.stringify({ name: "sourceplugin", version: "0.1.0", main: "index.js" }));
            fs.writeFileSync(path.join(plugin, "index.js"), "");
            // npm installs nothing for it, and the CLI wants node_modules to exist after `npm install`.
            fs.mkdirSync(path.join(plugin, "node_modules"));
            const example = { project: "yaml-cluster", dir: exampleIn(ws, "yaml-cluster", "yaml-source-plugin"), env: {} };
            const added = await run(example, ["package", "add", plugin]);
            assert.notStrictEqual(added.code, 0);
            assert.strictEqual(
                errorLines(added.output).pop(),
                `error: failed to get schema: unable to run ${plugin}: could not run plugin at "${plugin}": could not read plugin [${plugin}]: not supported`,
            );
        });
    });
});
