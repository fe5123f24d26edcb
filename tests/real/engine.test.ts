/**
 * The stack through the real Pulumi engine: the CLI and the docker provider that scripts/pulumi-toolchain.sh builds
 * from Go modules, driven with Pulumi's Automation API, a local file backend and an empty passphrase, on a CPU stack
 * like Pulumi.cpu.yaml. Run it with `npm run test:real` (which builds or reuses the toolchain and puts it on PATH).
 *
 * The Node.js language host cannot be built here (its Go module is not served), so the program runs as an Automation
 * API inline program: the CLI talks to a language runtime inside this process instead of starting
 * pulumi-language-nodejs. Everything after the program (engine, state, diffs, providers, Docker) is the real thing.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { ensureCpuImage } from "../support/cpuImage";
import { docker, purgeStack, stackObjects } from "../support/dockerHarness";
import { logsOf, resultOf, waitForExit } from "../support/clusterRuns";
import { checkoutAt, REPO_ROOT } from "../support/stackFiles";

const PROJECT = "ddpsim";
const CLEAN_NODES_ERROR = "ddpsim:nodes must be a whole number from 1 to 256, got 0";

/**
 * Runs a checkout's index.ts afresh (Node caches modules; the program must run once per operation), from that
 * checkout as its working directory (as the language host runs it), and returns its exports.
 */
function programOf(root: string): () => Promise<Record<string, unknown>> {
    return async () => {
        for (const file of Object.keys(require.cache)) {
            if (file === path.join(root, "index.ts") || file.startsWith(path.join(root, "components") + path.sep)) {
                delete require.cache[file];
            }
        }
        const before = process.cwd();
        process.chdir(root);
        try {
            const exports = require(path.join(root, "index.ts"));
            return Object.fromEntries(Object.entries(exports).filter(([key]) => key !== "__esModule"));
        } finally {
            process.chdir(before);
        }
    };
}

const program = programOf(REPO_ROOT);

function repoProject(): any {
    return parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8"));
}

/**
 * Pulumi.yaml as the inline runs use it: without `main` (the program runs in this process; `pulumi destroy` would
 * otherwise stat index.ts in the work dir).
 */
function projectForInlineRuns(): any {
    const project = repoProject();
    delete project.main;
    return project;
}

/** Prints what the CLI printed when DDPSIM_REAL_SHOW_OUTPUT is set (for reading the real engine's output). */
function show(text: string): void {
    if (process.env.DDPSIM_REAL_SHOW_OUTPUT) console.log(text);
}

function onPath(binary: string): string | undefined {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        const candidate = path.join(dir, binary);
        if (dir !== "" && fs.existsSync(candidate)) return candidate;
    }
    return undefined;
}

describe("the stack through the real Pulumi engine (CLI + docker provider built from Go modules)", function () {
    this.timeout(600_000);
    let tmp: string;
    let workDir: string;
    let envVars: Record<string, string>;
    let image: string;
    const stacks: string[] = [];

    /** Writes Pulumi.<stack>.yaml next to the project file: Pulumi.cpu.yaml's config with the overrides. */
    function writeStackConfig(stack: string, overrides: Record<string, unknown>): void {
        const base = parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.cpu.yaml"), "utf8")).config;
        const config = { ...base, "ddpsim:image": image, ...overrides };
        fs.writeFileSync(path.join(workDir, `Pulumi.${stack}.yaml`), stringify({ config }));
    }

    async function newStack(label: string, overrides: Record<string, unknown>): Promise<Stack> {
        const stackName = `real-${label}-${crypto.randomBytes(3).toString("hex")}`;
        stacks.push(stackName);
        writeStackConfig(stackName, overrides);
        return LocalWorkspace.createOrSelectStack({ stackName, projectName: PROJECT, program }, { workDir, envVars });
    }

    /** `pulumi up`; when it fails, the error also carries the state and the log tail of the stack's containers. */
    async function upOrExplain(stack: Stack) {
        try {
            return await stack.up();
        } catch (err) {
            const found = await stackObjects(PROJECT, stack.name).catch(() => undefined);
            const lines: string[] = [];
            for (const c of found?.containers ?? []) {
                const info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
                const logs = await logsOf(c.Names[0].replace(/^\//, "")).catch((e) => String(e));
                lines.push(`${c.Names[0]}: ${JSON.stringify(info?.State)}\n${logs.slice(-3000)}`);
            }
            (err as Error).message += `\n--- the stack's containers ---\n${lines.join("\n---\n")}`;
            throw err;
        }
    }

    before(async function () {
        this.timeout(900_000);
        const missing = ["pulumi", "pulumi-resource-docker", "pulumi-resource-random"].filter((b) => !onPath(b));
        if (missing.length > 0) {
            throw new Error(
                `${missing.join(", ")} not on PATH: run \`npm run test:real\`, or ` +
                    '`PATH="$(bash scripts/pulumi-toolchain.sh):$PATH"` first',
            );
        }
        image = await ensureCpuImage();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-real-"));
        workDir = path.join(tmp, "project");
        fs.mkdirSync(workDir);
        fs.mkdirSync(path.join(tmp, "state"));
        fs.mkdirSync(path.join(tmp, "home"));
        // The project file carries the config schema and defaults the CLI applies; stack files are written beside it.
        fs.writeFileSync(path.join(workDir, "Pulumi.yaml"), stringify(projectForInlineRuns()));
        envVars = {
            PULUMI_BACKEND_URL: `file://${path.join(tmp, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "",
            // An empty plugin cache: the providers can only come from PATH (ambient plugins), never a download.
            PULUMI_HOME: path.join(tmp, "home"),
            PULUMI_SKIP_UPDATE_CHECK: "true",
        };
    });

    after(async function () {
        this.timeout(180_000);
        for (const stack of stacks) await purgeStack(PROJECT, stack).catch(() => undefined);
        if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
    });

    describe("a 2-node CPU cluster, brought up, changed, resumed and destroyed", function () {
        let stack: Stack;
        let containerNames: string[];
        let volume: string;

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

        before(async function () {
            stack = await newStack("cluster", { "ddpsim:scriptArgs": ["--steps", "20", "--checkpoint-every", "5"] });
        });

        it("pulumi up creates the cluster and returns once its containers run (no wait on health), and the run trains", async function () {
            const up = await upOrExplain(stack);
            show(up.stdout);
            assert.strictEqual(up.summary.result, "succeeded");
            // the stack, the component, the suffix, the run id, the network, the volume and two containers
            assert.deepStrictEqual(up.summary.resourceChanges, { create: 8 });
            containerNames = up.outputs.containerNames.value;
            volume = up.outputs.checkpointVolumeName.value;
            assert.strictEqual(containerNames.length, 2);
            const states = await Promise.all(containerNames.map((n) => docker.getContainer(n).inspect()));
            assert.ok(states.every((s) => s.State.Running || s.State.Status === "exited"), JSON.stringify(states.map((s) => s.State)));
            const result = await finishedRun();
            assert.strictEqual(result.final_step, 20);
            assert.strictEqual(result.resumed_from_step, null);
        });

        it("pulumi preview --diff after a scriptArgs change shows a new run: the run id and the two containers replaced, nothing else", async function () {
            writeStackConfig(stack.name, { "ddpsim:scriptArgs": ["--steps", "30", "--checkpoint-every", "5"] });
            const preview = await stack.preview({ diff: true });
            assert.deepStrictEqual(preview.changeSummary, { same: 5, replace: 3 });
            assert.match(preview.stdout, /\+-random:index\/randomId:RandomId: \(replace\)[\s\S]*?~ keepers/);
            // Each container: `+-docker:index/container:Container: (replace)`, its URN, and `~ command` alone.
            const blocks = preview.stdout.split(/\n(?=\s+[-+~]*[a-z]+:[a-z]+[:/])/i).filter((b) => b.includes("docker:index/container:Container: (replace)"));
            assert.deepStrictEqual(
                blocks.map((b) => /::(ddp-node-\d+)\]/.exec(b)?.[1]),
                ["ddp-node-0", "ddp-node-1"],
                preview.stdout,
            );
            for (const block of blocks) {
                assert.match(block, /^\s+\+-docker:index\/container:Container: \(replace\)/);
                // The command changed (the environment follows the new run id, which the preview cannot know yet).
                assert.deepStrictEqual(block.match(/^\s+[~+-]{1,2} [a-zA-Z]+:/gm)?.map((l) => l.trim()), ["~ command:"], block);
                assert.match(block, /~ \[\d+\]: "20" => "30"/);
            }
        });

        it("a second pulumi up with more steps replaces the containers and resumes from the checkpoint", async function () {
            const up = await upOrExplain(stack);
            show(up.stdout);
            assert.deepStrictEqual(up.summary.resourceChanges, { same: 5, replace: 3 });
            containerNames = up.outputs.containerNames.value;
            const result = await finishedRun();
            assert.strictEqual(result.final_step, 30);
            assert.strictEqual(result.resumed_from_step, 20);
        });

        it("pulumi destroy removes the containers and the network and keeps the checkpoint volume", async function () {
            const destroyed = await stack.destroy();
            show(destroyed.stdout);
            assert.strictEqual(destroyed.summary.result, "succeeded");
            const left = await stackObjects(PROJECT, stack.name);
            assert.deepStrictEqual(left.containers.map((c) => c.Names), []);
            assert.deepStrictEqual(left.networks.map((n) => n.Name), []);
            assert.deepStrictEqual(left.volumes.map((v) => v.Name), [volume]);
            assert.ok(fs.existsSync(path.join((await docker.getVolume(volume).inspect()).Mountpoint, "result.json")));
        });
    });

    it("codeMode image: pulumi up from one checkout, then pulumi preview from another path shows no change", async function () {
        const first = checkoutAt(path.join(tmp, "checkouts", "laptop", "ddpsim"));
        const second = checkoutAt(path.join(tmp, "checkouts", "ci-runner", "work", "ddpsim"));
        const stackName = `real-checkout-${crypto.randomBytes(3).toString("hex")}`;
        stacks.push(stackName);
        // Each checkout is the project folder (the engine and the providers run there, as with `pulumi up`).
        writeStackConfig(stackName, { "ddpsim:codeMode": "image", "ddpsim:scriptArgs": ["--steps", "10"] });
        for (const dir of [first, second]) {
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify(projectForInlineRuns()));
            fs.copyFileSync(path.join(workDir, `Pulumi.${stackName}.yaml`), path.join(dir, `Pulumi.${stackName}.yaml`));
        }
        const fromFirst = await LocalWorkspace.createOrSelectStack({ stackName, projectName: PROJECT, program: programOf(first) }, { workDir: first, envVars });
        const up = await upOrExplain(fromFirst);
        show(up.stdout);
        // the stack, the component, the suffix, the run id, the network, the volume, the code layer and two containers
        assert.deepStrictEqual(up.summary.resourceChanges, { create: 9 });
        const names: string[] = up.outputs.containerNames.value;
        const node = await docker.getContainer(names[0]).inspect();
        assert.match(node.Config.Image, /^ddpsim-cpu-code:[0-9a-f]{16}$/);
        assert.deepStrictEqual(node.Mounts.map((m) => m.Type).sort(), ["volume", "volume"], "no host path in a node");
        const fromSecond = await LocalWorkspace.selectStack({ stackName, projectName: PROJECT, program: programOf(second) }, { workDir: second, envVars });
        const preview = await fromSecond.preview({ diff: true });
        show(preview.stdout);
        assert.deepStrictEqual(preview.changeSummary, { same: 9 }, preview.stdout);
        const codes = await waitForExit(names, 300_000);
        assert.deepStrictEqual(codes, [0, 0]);
    });

    it("a first stack init and preview, as scripts/up.sh runs them: state in the project's .pulumi, stack files unchanged", async function () {
        const dir = checkoutAt(path.join(tmp, "checkouts", "first-run", "ddpsim"));
        for (const file of ["Pulumi.cpu.yaml", "Pulumi.dev.yaml"]) fs.copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file));
        // A fresh clone has the (tracked) state folder the project's backend.url names.
        fs.mkdirSync(path.join(dir, ".pulumi"));
        fs.copyFileSync(path.join(REPO_ROOT, ".pulumi", ".gitkeep"), path.join(dir, ".pulumi", ".gitkeep"));
        const before = fs.readFileSync(path.join(dir, "Pulumi.cpu.yaml"));
        // No PULUMI_BACKEND_URL: the project file's backend.url applies. The empty passphrase, as up.sh sets it.
        const { PULUMI_BACKEND_URL: _ignored, ...env } = envVars;
        const stack = await LocalWorkspace.createOrSelectStack(
            { stackName: "cpu", projectName: PROJECT, program: programOf(dir) },
            { workDir: dir, envVars: env, secretsProvider: "passphrase" },
        );
        const preview = await stack.preview();
        assert.strictEqual(preview.changeSummary.create, 8, JSON.stringify(preview.changeSummary));
        assert.ok(fs.existsSync(path.join(dir, ".pulumi", ".pulumi", "stacks", PROJECT, "cpu.json")), "the state is in the project's .pulumi");
        assert.ok(fs.readFileSync(path.join(dir, "Pulumi.cpu.yaml")).equals(before), "Pulumi.cpu.yaml is left as committed");
    });

    it("the repository's Pulumi.yaml as it is: the real CLI accepts the cpu stack's config (no required keys)", async function () {
        const project = repoProject();
        delete project.main;
        const dir = path.join(tmp, "as-is");
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify(project));
        const stackName = `real-asis-${crypto.randomBytes(3).toString("hex")}`;
        stacks.push(stackName);
        const base = parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.cpu.yaml"), "utf8")).config;
        fs.writeFileSync(path.join(dir, `Pulumi.${stackName}.yaml`), stringify({ config: { ...base, "ddpsim:image": image } }));
        const stack = await LocalWorkspace.createOrSelectStack(
            { stackName, projectName: PROJECT, program },
            { workDir: dir, envVars },
        );
        // Every key Pulumi.yaml declares with a type and no default would be required by the real CLI ("is missing
        // configuration values"): the project file declares only keys with defaults.
        const preview = await stack.preview();
        assert.strictEqual(preview.changeSummary.create, 8, JSON.stringify(preview.changeSummary));
    });

    it("bad config (ddpsim:nodes 0) fails pulumi up with the clean message and creates nothing", async function () {
        const stack = await newStack("badnodes", { "ddpsim:nodes": 0 });
        let printed = "";
        await assert.rejects(
            stack.up({ onOutput: (out) => (printed += out) }),
            (err: Error) => {
                printed += `\n${err.message}`;
                return true;
            },
        );
        const messageLines = printed.split("\n").filter((line) => line.includes(CLEAN_NODES_ERROR));
        assert.ok(messageLines.length > 0, `the CLI printed:\n${printed.slice(-4000)}`);
        show(printed);
        const left = await stackObjects(PROJECT, stack.name);
        assert.strictEqual(left.containers.length + left.networks.length + left.volumes.length, 0);
    });
});
