import * as assert from "assert";
import { ensureCpuImage } from "../../support/cpuImage";
import { cleanUp, stackConfig, uniqueStack, upStack, UpResult } from "../../support/clusterRuns";
import { waitFor } from "../../support/wait";
import { childrenOf, CliResult, ddpsim, dockerTail, ensureCliBuilt, isAlive, startDdpsim } from "./cliProcess";

/** A short run, slowed down so that it is still running while --follow is tried. */
const SLOW = ["--steps", "20", "--step-sleep", "0.5", "--log-every", "2"];
const QUICK = ["--steps", "20"];
/** Our trainer's usage error (exit 2): a deterministic failure, with the stack's own restart settings. */
const BAD = { "ddpsim:scriptArgs": ["--steps", "abc"] };
const USAGE_ERROR = "train_ddp.py: error: argument --steps: invalid positive_int value: 'abc'";

describe("the ddpsim command on a real Docker engine (CPU image)", function () {
    this.timeout(600_000);
    const [slow, quick, bad] = [uniqueStack("cli-slow"), uniqueStack("cli-quick"), uniqueStack("cli-bad")];
    const ups: Record<string, UpResult> = {};
    /** `wait` on the failing stack, started as soon as it is up, so that it blocks until the failure. */
    let badWait: Promise<CliResult> | undefined;

    before(async function () {
        this.timeout(900_000);
        const [image] = await Promise.all([ensureCpuImage(), ensureCliBuilt()]);
        const cpu = (overrides: Record<string, unknown>) => stackConfig("cpu", { "ddpsim:image": image, ...overrides });
        const results = await Promise.all([
            upStack(slow, cpu({ "ddpsim:scriptArgs": SLOW })),
            upStack(quick, cpu({ "ddpsim:scriptArgs": QUICK })),
            upStack(bad, cpu(BAD)),
        ]);
        [slow, quick, bad].forEach((stack, i) => (ups[stack] = results[i]));
        for (const r of results) assert.ok(r.ok, `up failed: ${r.stderr}`);
        badWait = ddpsim(["wait", "--stack", bad, "--timeout", "8m"], { timeoutMs: 540_000 });
    });

    after(async () => {
        await cleanUp([slow, quick, bad]);
        // A wait still running ends once its containers are gone: leave no process behind.
        await badWait;
    });

    it("logs --follow ends within a few seconds of SIGINT and leaves no process behind", async () => {
        const child = startDdpsim(["logs", "--follow", "--stack", slow]);
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        // Following a live cluster: wait for a streamed progress line.
        await waitFor("a followed progress line", 420_000, async () => (/\[ddp-node-0\] \[ddpsim\] step \d+\/20/.test(out) ? true : undefined));
        const pid = child.pid!;
        assert.deepStrictEqual(childrenOf(pid), [], "the follower starts no process of its own");
        const sent = Date.now();
        child.kill("SIGINT");
        const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("still running"), 5_000))]);
        const seconds = (Date.now() - sent) / 1000;
        assert.strictEqual(code, 130, `exit after SIGINT: ${code}\n${out.slice(-2000)}`);
        assert.strictEqual(isAlive(pid), false);
        console.log(`      figure: logs --follow exited ${seconds.toFixed(2)} s after SIGINT`);
    });

    it("status on two stacks at once shows each stack's own nodes only", async () => {
        const [a, b] = await Promise.all([ddpsim(["status", "--stack", slow, "-o", "json"]), ddpsim(["status", "--stack", quick, "-o", "json"])]);
        for (const [stack, result] of [
            [slow, a],
            [quick, b],
        ] as const) {
            assert.strictEqual(result.code, 0, result.stderr);
            const status = JSON.parse(result.stdout);
            assert.deepStrictEqual([status.project, status.stack, status.cluster], ["ddpsim", stack, "ddp"]);
            assert.deepStrictEqual(
                status.nodes.map((n: { node: string; rank: number; container: string }) => [n.node, n.rank, n.container]),
                ups[stack].outputs.containerNames.map((name: string, rank: number) => [`ddp-node-${rank}`, rank, name]),
            );
            assert.ok(["starting", "running", "succeeded"].includes(status.verdict.status), status.verdict.text);
        }
    });

    it("wait exits 0 when every node exited 0, and status then says succeeded", async () => {
        const [waitSlow, waitQuick] = await Promise.all([
            ddpsim(["wait", "--stack", slow, "--timeout", "5m"], { timeoutMs: 400_000 }),
            ddpsim(["wait", "--stack", quick, "--timeout", "5m"], { timeoutMs: 400_000 }),
        ]);
        for (const w of [waitSlow, waitQuick]) {
            assert.strictEqual(w.code, 0, `${w.stdout}\n${w.stderr}`);
            assert.match(w.stdout, /^verdict: succeeded: every node exited 0$/m);
            assert.match(w.stdout, /^result: step 20\/20, world size 2, ranks agree, /m);
        }
        // Not a TTY: plain lines, one per change, the last progress among them.
        assert.match(waitSlow.stdout, /^\[\d+s\] running: ddp-node-0 step 20\/20 100\.0% \| nodes: /m);

        const [a, b] = await Promise.all([ddpsim(["status", "--stack", slow]), ddpsim(["status", "--stack", quick])]);
        for (const [stack, result] of [
            [slow, a],
            [quick, b],
        ] as const) {
            assert.strictEqual(result.code, 0, result.stderr);
            const lines = result.stdout.trim().split("\n");
            assert.strictEqual(lines[0], `stack ${stack} (project ddpsim, cluster ddp): 2 node(s)`);
            assert.deepStrictEqual(lines[1].split(/\s+/), ["NODE", "RANK", "STATE", "EXIT", "RESTARTS", "UPTIME", "GPUS", "PROGRESS"]);
            assert.match(lines[2], /^ddp-node-0 +0 +exited +0 +0 +exited \S+ ago +- +step 20\/20 100\.0%$/);
            assert.match(lines[3], /^ddp-node-1 +1 +exited +0 +0 +exited \S+ ago +- +-$/);
            assert.strictEqual(lines[lines.length - 1], "verdict: succeeded: every node exited 0");
            assert.ok(!result.stdout.includes(stack === slow ? quick : slow));
        }
    });

    it("logs --follow of a finished cluster prints and ends by itself", async () => {
        const result = await ddpsim(["logs", "--follow", "--stack", quick, "--tail", "1"], { timeoutMs: 30_000 });
        assert.strictEqual(result.code, 0, result.stderr);
        assert.match(result.stdout, /^\[ddp-node-0\] DDPSIM_RESULT \{.*"final_step": 20/m);
        assert.ok(result.seconds < 10, `${result.seconds} s`);
    });

    it("wait exits 1 on a failed run, naming the node and its first error line, with its last lines", async () => {
        assert.ok(badWait, "wait was started in before()");
        const result = await badWait;
        assert.strictEqual(result.code, 1, `${result.stdout}\n${result.stderr}`);
        const verdict = result.stderr.split("\n")[0];
        assert.match(verdict, /^verdict: failed: ddp-node-[01] \(rank [01]\) .+: (.+)$/);
        assert.ok(verdict.endsWith(`: ${USAGE_ERROR}`), verdict);
        const node = /failed: (ddp-node-[01])/.exec(verdict)![1];
        assert.match(result.stderr, new RegExp(`^--- last 20 lines of ${node} \\(rank [01], (running|restarting|exited, exit code [1-9]\\d*)\\) ---$`, "m"));
        assert.strictEqual(result.stderr.split("\n").filter((l) => l.startsWith(`[${node}] `)).length, 20);
        assert.match(result.stdout, /^\[\d+s\] starting: containers up, no progress line yet \| nodes: 2 running$/m);
        console.log(`      figure: wait on the failing stack returned ${result.seconds.toFixed(0)} s after the stack was up`);

        const status = JSON.parse((await ddpsim(["status", "--stack", bad, "-o", "json"])).stdout);
        assert.strictEqual(status.verdict.status, "failed");
        assert.strictEqual(status.verdict.error, USAGE_ERROR);
    });

    it("logs --node 1 --tail 5 prints exactly the last 5 lines of node 1, prefixed", async () => {
        const container = ups[bad].outputs.containerNames[1];
        const expected = (await dockerTail(container, 5)).map((l) => `[ddp-node-1] ${l}`);
        assert.strictEqual(expected.length, 5);
        for (const node of ["1", "ddp-node-1"]) {
            const result = await ddpsim(["logs", "--stack", bad, "--node", node, "--tail", "5"]);
            assert.strictEqual(result.code, 0, result.stderr);
            assert.deepStrictEqual(result.stdout.split("\n").slice(0, -1), expected);
        }
        const stamped = await ddpsim(["logs", "--stack", bad, "--node", "1", "--tail", "1", "--timestamps"]);
        const [last] = await dockerTail(container, 1, { timestamps: true });
        assert.match(last, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
        assert.strictEqual(stamped.stdout, `[ddp-node-1] ${last}\n`);
    });

    it("--help of every verb exits 0", async () => {
        for (const verb of [[], ["status"], ["logs"], ["wait"]]) {
            const result = await ddpsim([...verb, "--help"]);
            assert.strictEqual(result.code, 0, result.stderr);
            assert.match(result.stdout, new RegExp(`^Usage: ddpsim${verb.length ? ` ${verb[0]}` : ""} \\[options\\]`));
        }
    });

    it("refuses an unknown stack, listing the stacks on this host", async () => {
        const result = await ddpsim(["status", "--stack", "no-such-stack"]);
        assert.strictEqual(result.code, 2);
        assert.strictEqual(result.stdout, "");
        const line = result.stderr.trim();
        assert.match(line, /^ddpsim: no stack no-such-stack of project ddpsim \(owner [^)]+\) on this Docker host; stacks on this host: .+$/);
        const listed = line.slice(line.lastIndexOf(": ") + 2).split(", ");
        for (const stack of [slow, quick, bad]) assert.ok(listed.includes(stack), `${stack} not in ${line}`);
    });

    it("refuses bad flag values, an unknown node and an unreachable Docker, one line each", async () => {
        const cases: [string[], RegExp, NodeJS.ProcessEnv?][] = [
            [["logs", "--stack", quick, "--tail", "-1"], /^ddpsim: --tail must be a whole number of at least 0, got "-1"$/],
            [["logs", "--stack", quick, "--since", "yesterday"], /^ddpsim: --since must be a duration .*, got "yesterday"$/],
            [["logs", "--stack", quick, "--node", "7"], /^ddpsim: --node 7: no such node; nodes: 0 \(ddp-node-0\), 1 \(ddp-node-1\)$/],
            [["status", "--stack", quick, "-o", "yaml"], /^ddpsim: -o\/--output must be table or json, got "yaml"$/],
            [["wait", "--stack", quick, "--timeout", "soon"], /^ddpsim: --timeout must be a duration such as 90, 90s, 1m30s, 10m or 2h, got "soon"$/],
            [
                ["status", "--stack", quick],
                /^ddpsim: Docker is not reachable at DOCKER_HOST=unix:\/\/\/nonexistent\/docker\.sock \(ENOENT.*\); start the Docker engine or set DOCKER_HOST$/,
                { ...process.env, DOCKER_HOST: "unix:///nonexistent/docker.sock" },
            ],
        ];
        for (const [args, message, env] of cases) {
            const result = await ddpsim(args, { env });
            assert.strictEqual(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
            assert.match(result.stderr.trim(), message);
            assert.strictEqual(result.stderr.trim().split("\n").length, 1);
        }
    });
});
