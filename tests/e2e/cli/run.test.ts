/**
 * `ddpsim run` as a user runs it: the built CLI (bin/cli/main.js) spawned in a project folder, driving the stack
 * through the real Pulumi CLI (cli/stack/stackDriver.ts), the Node.js language host and the docker provider
 * (scripts/pulumi-toolchain.sh), a local file backend and an empty passphrase, on CPU stacks like Pulumi.cpu.yaml.
 *
 * The project folder is a checkout of this repository elsewhere (sources copied, node_modules linked), so that the
 * stack files these tests write never land in the repository.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { ensureCpuImage } from "../../support/cpuImage";
import { docker, purgeStack, stackObjects } from "../../support/dockerObjects";
import { metricsOf, resultOf, volumeFiles } from "../../support/clusterRuns";
import { pulumiPath } from "../../support/realStack";
import { checkoutAt, REPO_ROOT } from "../../support/stackFiles";
import { waitFor } from "../../support/wait";
import { CLI_MAIN, ensureCliBuilt } from "./cliProcess";

const PROJECT = "ddpsim";
const USAGE_ERROR = "train_ddp.py: error: argument --steps: invalid positive_int value: 'abc'";

interface RunResult {
    code: number | null;
    stdout: string;
    stderr: string;
    seconds: number;
}

describe("ddpsim run: up, wait, verdict, teardown through the real Pulumi engine", function () {
    this.timeout(600_000);
    let tmp: string;
    let project: string;
    let env: NodeJS.ProcessEnv;
    let image: string;
    const stacks: string[] = [];

    /** Pulumi.<stack>.yaml in the project folder: Pulumi.cpu.yaml's config, the CPU image, short grace. */
    function newStack(label: string, config: Record<string, unknown>): string {
        const stack = `run-${label}-${crypto.randomBytes(3).toString("hex")}`;
        stacks.push(stack);
        const base = parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.cpu.yaml"), "utf8")).config;
        const full = { ...base, "ddpsim:image": image, "ddpsim:stopGraceSeconds": 5, ...config };
        fs.writeFileSync(path.join(project, `Pulumi.${stack}.yaml`), stringify({ config: full }));
        return stack;
    }

    /** `node bin/cli/main.js run <args>` in the project folder; `onStart` gets the child (to signal it). */
    function ddpsimRun(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; onStdout?: (all: string, kill: (s: NodeJS.Signals) => void) => void } = {}): Promise<RunResult> {
        const started = Date.now();
        return new Promise((resolve, reject) => {
            const child = spawn(process.execPath, [CLI_MAIN, "run", ...args], { cwd: options.cwd ?? project, env: options.env ?? env });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => {
                stdout += d;
                options.onStdout?.(stdout, (s) => child.kill(s));
            });
            child.stderr.on("data", (d) => (stderr += d));
            const timer = setTimeout(() => child.kill("SIGKILL"), 540_000);
            child.on("error", reject);
            child.on("close", (code) => {
                clearTimeout(timer);
                resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
            });
        });
    }

    function explain(run: RunResult): string {
        return `exit ${run.code} after ${run.seconds.toFixed(0)} s\n--- stdout ---\n${run.stdout.slice(-3000)}\n--- stderr ---\n${run.stderr.slice(-5000)}`;
    }

    async function left(stack: string) {
        const found = await stackObjects(PROJECT, stack);
        return {
            containers: found.containers.map((c) => c.Names[0]),
            networks: found.networks.map((n) => n.Name),
            volumes: found.volumes.map((v) => v.Name),
        };
    }

    before(async function () {
        this.timeout(900_000);
        [image] = await Promise.all([ensureCpuImage(), ensureCliBuilt()]);
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-run-"));
        project = checkoutAt(path.join(tmp, "my-project"));
        fs.mkdirSync(path.join(tmp, "state"));
        fs.mkdirSync(path.join(tmp, "home"));
        env = {
            ...process.env,
            PATH: pulumiPath(),
            PULUMI_BACKEND_URL: `file://${path.join(tmp, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "",
            // An empty plugin cache: the providers can only come from PATH (ambient plugins), never a download.
            PULUMI_HOME: path.join(tmp, "home"),
        };
    });

    after(async function () {
        this.timeout(180_000);
        for (const stack of stacks) await purgeStack(PROJECT, stack).catch(() => undefined);
        if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("a succeeding run exits 0, prints the verdict, and leaves only the checkpoint volume; --config applies to that run only", async () => {
        const stack = newStack("ok", { "ddpsim:scriptArgs": ["--steps", "8"] });
        const run = await ddpsimRun(["--stack", stack, "--config", 'scriptArgs=["--steps","6","--log-every","2"]']);
        assert.strictEqual(run.code, 0, explain(run));
        assert.match(run.stdout, /^verdict: succeeded: every node exited 0$/m, explain(run));
        assert.match(run.stdout, /^result: step 6\/6, world size 2, ranks agree/m, explain(run));
        assert.match(run.stderr, /tearing the cluster down \(pulumi destroy/);
        const found = await left(stack);
        assert.deepStrictEqual([found.containers, found.networks], [[], []], explain(run));
        assert.strictEqual(found.volumes.length, 1, JSON.stringify(found));
        assert.match(run.stderr, new RegExp(`kept the checkpoint volume ${found.volumes[0]}`));
        const result = JSON.parse(fs.readFileSync(path.join((await docker.getVolume(found.volumes[0]).inspect()).Mountpoint, "result.json"), "utf8"));
        assert.deepStrictEqual([result.final_step, result.agree], [6, true]);
        // The override went to a temporary config file: the stack file still says 8 steps.
        assert.deepStrictEqual(parse(fs.readFileSync(path.join(project, `Pulumi.${stack}.yaml`), "utf8")).config["ddpsim:scriptArgs"], ["--steps", "8"]);
    });

    it("a failing run (usage error) exits 1 naming the node and its error line, and still tears down", async () => {
        const stack = newStack("bad", { "ddpsim:scriptArgs": ["--steps", "abc"] });
        const run = await ddpsimRun(["--stack", stack, "--quiet"]);
        assert.strictEqual(run.code, 1, explain(run));
        const verdict = run.stderr.split("\n").find((l) => l.startsWith("verdict: failed: "));
        assert.ok(verdict !== undefined, explain(run));
        assert.match(verdict, /^verdict: failed: ddp-node-[01] \(rank [01]\) .*exit code 2/);
        assert.ok(verdict.endsWith(USAGE_ERROR), verdict);
        // The failed node's last lines, with its error line among them.
        assert.match(run.stderr, /^--- last \d+ lines of ddp-node-[01] \(rank [01], /m);
        assert.match(run.stderr, new RegExp(`^\\[ddp-node-[01]\\] ${USAGE_ERROR.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
        assert.doesNotMatch(run.stderr, /pulumi destroy failed/);
        const found = await left(stack);
        assert.deepStrictEqual([found.containers, found.networks, found.volumes.length], [[], [], 1], explain(run));
    });

    it("--purge (from another folder, with --project-dir) leaves nothing: no container, network or volume", async () => {
        const stack = newStack("purge", { "ddpsim:scriptArgs": ["--steps", "4"] });
        const run = await ddpsimRun(["--stack", stack, "--project-dir", project, "--purge", "-q"], { cwd: tmp });
        assert.strictEqual(run.code, 0, explain(run));
        assert.match(run.stderr, /removed the checkpoint volume \S+ \(--purge\)/);
        assert.deepStrictEqual(await left(stack), { containers: [], networks: [], volumes: [] });
    });

    it("SIGINT while training tears the cluster down (saying so), exits 130 and keeps a checkpoint of the last step; the next run resumes from it", async () => {
        const steps = 60;
        const stack = newStack("sigint", { "ddpsim:scriptArgs": ["--steps", String(steps), "--step-sleep", "0.5"] });
        let sent = false;
        const run = await ddpsimRun(["--stack", stack, "-q"], {
            onStdout: (out, kill) => {
                // A live line with training progress: `up` has returned and the nodes are training.
                if (!sent && /^\[\d+s\] running: /m.test(out)) {
                    sent = true;
                    kill("SIGINT");
                }
            },
        });
        assert.ok(sent, explain(run));
        assert.strictEqual(run.code, 130, explain(run));
        assert.match(run.stderr, /SIGINT: stopping the run; the cluster will be torn down/);
        assert.match(run.stderr, /tearing the cluster down \(pulumi destroy of stack \S+\) after the interrupt/);
        const found = await left(stack);
        assert.deepStrictEqual([found.containers, found.networks, found.volumes.length], [[], [], 1], explain(run));

        // The real provider stopped each node with destroyGraceSeconds: the trainer saved the step it was at.
        const volume = found.volumes[0];
        const stoppedAt = Math.max(...(await metricsOf(volume)).map((m) => m.step));
        const files = await volumeFiles(volume);
        assert.ok(stoppedAt >= 1 && stoppedAt < steps, `stopped mid-run: step ${stoppedAt}`);
        assert.ok(files.includes(`ckpt-step${String(stoppedAt).padStart(8, "0")}.pt`), `a checkpoint of step ${stoppedAt}; files ${files.join(" ")}`);
        assert.ok(!files.includes("result.json"), files.join(" "));

        const again = await ddpsimRun(["--stack", stack, "-q"]);
        assert.strictEqual(again.code, 0, explain(again));
        const result = await resultOf(volume);
        assert.deepStrictEqual([result.resumed_from_step, result.final_step, result.agree], [stoppedAt, steps, true]);
        console.log(`      figure: interrupted at step ${stoppedAt}, resumed from it, finished ${steps} steps (${run.seconds.toFixed(0)} s + ${again.seconds.toFixed(0)} s)`);
    });

    it("without the Pulumi CLI on PATH: one line saying how to get it, exit 2, nothing created", async () => {
        const stack = newStack("nocli", {});
        const bare = (env.PATH ?? "").split(path.delimiter).filter((dir) => dir !== "" && !fs.existsSync(path.join(dir, "pulumi")));
        const run = await ddpsimRun(["--stack", stack], { env: { ...env, PATH: [path.dirname(process.execPath), ...bare].join(path.delimiter) } });
        assert.strictEqual(run.code, 2, explain(run));
        const lines = run.stderr.trim().split("\n");
        assert.strictEqual(lines.length, 1, run.stderr);
        assert.match(lines[0], /^ddpsim: the Pulumi CLI \(`pulumi`\) is not on PATH: install it \(https:\/\/www\.pulumi\.com\/docs\/install\/\), or .*scripts\/pulumi-toolchain\.sh/);
        await waitFor("nothing of the stack", 1000, async () => ((await left(stack)).containers.length === 0 ? true : undefined));
    });
});
