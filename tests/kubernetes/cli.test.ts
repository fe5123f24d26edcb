/**
 * The `ddpsim` command on a kubernetes stack, as on a Docker one: `status`, `logs` (also `--follow`), `wait` and
 * `run` read the Job's pods through the API (the kubeconfig's cluster) and give the same verdicts and exit codes.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import { CLI_MAIN, ensureCliBuilt } from "../e2e/cli/cliProcess";
import { CommandResult, KubernetesLab } from "./lab";

const USAGE_ERROR = "train_ddp.py: error: argument --steps: invalid positive_int value: 'abc'";
const explain = (r: CommandResult) => `exit ${r.code}\n--- stdout ---\n${r.stdout.slice(-3000)}\n--- stderr ---\n${r.stderr.slice(-3000)}`;

describe("kubernetes: the ddpsim command on a kubernetes stack (real cluster)", function () {
    let lab: KubernetesLab;
    before(async () => {
        [lab] = await Promise.all([KubernetesLab.open(), ensureCliBuilt()]);
    });
    after(() => lab?.close());

    const ddpsim = (args: string[], timeoutMs = 600_000) => lab.command(process.execPath, [CLI_MAIN, ...args], timeoutMs);

    it("status, logs --follow and wait follow a run to 'succeeded', exit 0", async () => {
        const stack = lab.newStack("cli-ok", { "ddpsim:scriptArgs": ["--steps", "20", "--log-every", "5", "--step-sleep", "0.3"] });
        await lab.pulumi("up", stack);
        const { jobName: job } = await lab.outputs(stack);
        const early = await ddpsim(["status", "--stack", stack]);
        assert.strictEqual(early.code, 0, explain(early));
        assert.match(early.stdout, new RegExp(`^stack ${stack} \\(project ddpsim, cluster ddp\\): 2 node\\(s\\)$`, "m"));
        assert.match(early.stdout, new RegExp(`^${job}-0 +0 +(created|running) `, "m"), early.stdout);
        assert.match(early.stdout, /^verdict: (starting|running)/m);

        // `logs --follow` from the start: it ends by itself once every pod has exited for good.
        const follow = new Promise<CommandResult>((resolve) => {
            const started = Date.now();
            const child = spawn(process.execPath, [CLI_MAIN, "logs", "--follow", "--stack", stack], { cwd: lab.project, env: lab.env });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
            child.on("close", (code) => {
                clearTimeout(timer);
                resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
            });
        });
        const waited = await ddpsim(["wait", "--stack", stack, "--timeout", "5m"]);
        assert.strictEqual(waited.code, 0, explain(waited));
        assert.match(waited.stdout + waited.stderr, /verdict: succeeded: every node exited 0/);
        const followed = await follow;
        assert.strictEqual(followed.code, 0, explain(followed));
        assert.match(followed.stdout, new RegExp(`^\\[${job}-0\\] \\[ddpsim\\] done: world size 2 \\(2 node\\(s\\)\\), step 20, all ranks agree`, "m"), explain(followed));
        // Followed from the start, it missed nothing that the whole log, read afterwards, has (both pods, merged).
        const whole = await ddpsim(["logs", "--stack", stack]);
        assert.strictEqual(whole.code, 0, explain(whole));
        const missed = whole.stdout.split("\n").filter((l) => l !== "" && !followed.stdout.includes(l));
        assert.deepStrictEqual(missed, [], explain(followed));

        const done = await ddpsim(["status", "--stack", stack, "-o", "json"]);
        assert.strictEqual(done.code, 0, explain(done));
        const status = JSON.parse(done.stdout);
        assert.deepStrictEqual(status.nodes.map((n: any) => [n.node, n.rank, n.state, n.exitCode, n.restarts]), [
            [`${job}-0`, 0, "exited", 0, 0],
            [`${job}-1`, 1, "exited", 0, 0],
        ]);
        assert.deepStrictEqual([status.verdict.status, status.result.final_step ?? status.result.step], ["succeeded", 20]);
        const tail = await ddpsim(["logs", "--stack", stack, "--node", "0", "--tail", "3"]);
        assert.strictEqual(tail.stdout.trim().split("\n").length, 3, explain(tail));
    });

    it("wait says which pod failed and why, exit 1, for a usage error", async () => {
        const stack = lab.newStack("cli-bad", { "ddpsim:scriptArgs": ["--steps", "abc"] });
        await lab.pulumi("up", stack);
        const waited = await ddpsim(["wait", "--stack", stack, "--timeout", "5m"]);
        assert.strictEqual(waited.code, 1, explain(waited));
        const verdict = waited.stderr.split("\n").find((l) => l.startsWith("verdict: failed: "));
        assert.ok(verdict !== undefined, explain(waited));
        assert.match(verdict, /^verdict: failed: \S+-[01] \(rank [01]\) .*exit code 2/);
        assert.ok(verdict.endsWith(USAGE_ERROR), verdict);
    });

    it("run brings a kubernetes stack up, waits, says the verdict, tears it down and keeps the claim", async () => {
        const stack = lab.newStack("cli-run", { "ddpsim:scriptArgs": ["--steps", "6", "--log-every", "2"] });
        const run = await ddpsim(["run", "--stack", stack, "--quiet"]);
        assert.strictEqual(run.code, 0, explain(run));
        assert.match(run.stdout, /^verdict: succeeded: every node exited 0$/m, explain(run));
        assert.match(run.stdout, /^result: step 6\/6, world size 2, ranks agree/m, explain(run));
        assert.match(run.stderr, /tearing the cluster down \(pulumi destroy/);
        const claim = run.stderr.match(/kept the run volume's claim (\S+) in namespace default/);
        assert.ok(claim !== null, explain(run));
        const jobs = await lab.batch.listNamespacedJob({ namespace: "default", labelSelector: `ddpsim.stack=${stack}` });
        assert.deepStrictEqual(jobs.items.map((j) => j.metadata!.name), [], "no Job left");
        assert.strictEqual((await lab.result(claim[1])).final_step, 6);
    });
});
