/**
 * The node agent (training/node_agent.py) run for real on this machine's python3, around a fake torchrun that
 * prints what the real one prints when workers fail, and a fake tc. The real thing runs in the e2e tests.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    missingQdiscMessage,
    NodeAgentConfig,
    packageTrainingDir,
    resolveInterconnect,
    shapingConfig,
    tcCommands,
} from "../../components/plan";

/** The agent as every node runs it: a file, `python3 <file> <config> <command...>`. */
const AGENT = path.join(packageTrainingDir(), "node_agent.py");

/** A torchrun stand-in: each attempt prints `lines` (stderr), reports the worker's exit like torchrun, repeats. */
function fakeTorchrun(dir: string, attempts: { lines: string[]; exitCode: number }[], finalCode: number): string {
    const file = path.join(dir, "torchrun.py");
    fs.writeFileSync(
        file,
        [
            "import sys, time",
            `attempts = ${JSON.stringify(attempts)}`,
            "for a in attempts:",
            "    for line in a['lines']: print(line, file=sys.stderr, flush=True)",
            "    print(f\"E1128 10:00:00.000000 7 torch/distributed/elastic/multiprocessing/api.py:869] failed (exitcode: {a['exitCode']}) local_rank: 0 (pid: 12) of binary: /usr/bin/python3\", file=sys.stderr, flush=True)",
            "    time.sleep(0.3)",
            "print('torchrun done', flush=True)",
            `sys.exit(${finalCode})`,
        ].join("\n"),
    );
    return file;
}

interface AgentRun {
    status: number | null;
    stdout: string;
    stderr: string;
    verdicts: any[];
}

function runAgent(dir: string, config: Partial<NodeAgentConfig>, command: string[], env: Record<string, string> = {}): AgentRun {
    const full: NodeAgentConfig & { stateDir: string } = {
        node: "ddp-node-1",
        rank: 1,
        controlDir: path.join(dir, "control"),
        graceSeconds: 30,
        failFastExitCodes: [2, 3],
        failFastRepeats: 2,
        stateDir: path.join(dir, "state"),
        ...config,
    };
    const run = spawnSync("python3", [AGENT, JSON.stringify(full), ...command], {
        encoding: "utf8",
        env: { ...process.env, DDPSIM_RUN_ID: "run1", ...env },
        timeout: 30_000,
    });
    const verdicts = run.stdout
        .split("\n")
        .filter((l) => l.startsWith("DDPSIM_VERDICT "))
        .map((l) => JSON.parse(l.slice("DDPSIM_VERDICT ".length)));
    return { status: run.status, stdout: run.stdout, stderr: run.stderr, verdicts };
}

const IMPORT_ERROR = ["Traceback (most recent call last):", '  File "/code/train.py", line 1, in <module>', "    import nope", "ModuleNotFoundError: No module named 'nope'"];

describe("the node agent (training/node_agent.py)", function () {
    this.timeout(60_000);
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-agent-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("passes a successful run through untouched and exits with torchrun's code", () => {
        const run = runAgent(dir, {}, ["python3", "-c", "import sys; print('hello from the script'); print('err', file=sys.stderr)"]);
        assert.strictEqual(run.status, 0);
        assert.strictEqual(run.stdout, "hello from the script\n");
        assert.strictEqual(run.stderr, "err\n");
        assert.deepStrictEqual(run.verdicts, []);
    });

    it("stops at the first failure whose exit code is in failFastExitCodes, with a verdict naming the error", () => {
        const usage = ["usage: train.py [-h] total_epochs", "train.py: error: argument total_epochs: invalid int value: 'x'"];
        const torchrun = fakeTorchrun(dir, [{ lines: usage, exitCode: 2 }, { lines: usage, exitCode: 2 }], 1);
        const run = runAgent(dir, {}, ["python3", torchrun]);
        assert.strictEqual(run.status, 2);
        assert.strictEqual(run.verdicts.length, 1);
        const { time, ...verdict } = run.verdicts[0];
        assert.deepStrictEqual(verdict, {
            node: "ddp-node-1",
            rank: 1,
            exitCode: 2,
            error: "train.py: error: argument total_epochs: invalid int value: 'x'",
            reason: "exit code 2 is in failFastExitCodes [2, 3]",
        });
        assert.ok(!run.stdout.includes("torchrun done"), "torchrun was ended, not left to restart");
        const recorded = JSON.parse(fs.readFileSync(path.join(dir, "control", "run1", "verdict-ddp-node-1.json"), "utf8"));
        assert.strictEqual(recorded.runId, "run1");
    });

    it("stops when the same error comes twice in a row, and lets a single one be retried", () => {
        const torchrun = fakeTorchrun(dir, [1, 2, 3].map(() => ({ lines: IMPORT_ERROR, exitCode: 1 })), 1);
        const run = runAgent(dir, {}, ["python3", torchrun]);
        assert.strictEqual(run.status, 1);
        assert.match(run.stdout, /local rank 0 failed with exit code 1 \(ModuleNotFoundError: No module named 'nope'\): failure 1 of 2/);
        assert.deepStrictEqual(run.verdicts.map((v) => [v.exitCode, v.error, v.reason]), [
            [1, "ModuleNotFoundError: No module named 'nope'", "the same error 2 times in a row (failFastRepeats 2)"],
        ]);
    });

    it("never counts a death by signal or an error of the distributed layer", () => {
        const gloo = ["RuntimeError: [/build/gloo/transport/tcp/pair.cc:534] Connection closed by peer [172.18.0.3]:1234"];
        const torchrun = fakeTorchrun(
            dir,
            [
                { lines: [], exitCode: -9 },
                { lines: [], exitCode: -9 },
                { lines: gloo, exitCode: 1 },
                { lines: gloo, exitCode: 1 },
            ],
            0,
        );
        const run = runAgent(dir, {}, ["python3", torchrun]);
        assert.strictEqual(run.status, 0);
        assert.deepStrictEqual(run.verdicts, []);
        assert.match(run.stdout, /torchrun done/);
    });

    it("never counts the errors a partitioned or frozen peer causes (ddpsim fault partition, hang), however often", () => {
        // Lines seen on the real engine while a node was cut off or paused, and what a script of its own may print.
        const lines = [
            "[rank 1/2 node 1] error: RuntimeError: [enforce fail at ./gloo/transport/tcp/device.cc:83] ifa != nullptr. Unable to find address for: eth0",
            "[rank 0/2 node 0] error: RuntimeError: [./gloo/transport/tcp/unbound_buffer.cc:81] Timed out waiting 30000ms for recv operation to complete",
            "OSError: [Errno 113] No route to host",
            "OSError: [Errno 101] Network is unreachable",
            "[rank 1/2 node 1] error: gaierror: [Errno -3] Temporary failure in name resolution",
            "ConnectionRefusedError: [Errno 111] Connection refused",
            "RuntimeError: Unable to find address for eth0",
        ];
        const torchrun = fakeTorchrun(
            dir,
            lines.flatMap((line) => [{ lines: [line], exitCode: 1 }, { lines: [line], exitCode: 1 }]),
            0,
        );
        const run = runAgent(dir, {}, ["python3", torchrun]);
        assert.strictEqual(run.status, 0, run.stdout + run.stderr);
        assert.deepStrictEqual(run.verdicts, []);
        assert.strictEqual(run.stdout.split("\n").filter((l) => l.includes("an error of the distributed layer or the network")).length, lines.length * 2);
    });

    it("remembers the last error across container restarts (its state folder survives them)", () => {
        const once = fakeTorchrun(dir, [{ lines: IMPORT_ERROR, exitCode: 1 }], 1);
        const first = runAgent(dir, {}, ["python3", once]);
        assert.deepStrictEqual([first.status, first.verdicts.length], [1, 0]);
        const second = runAgent(dir, {}, ["python3", once]);
        assert.deepStrictEqual([second.status, second.verdicts.length], [1, 1]);
        // A Docker restart after that repeats the verdict without starting the script.
        const third = runAgent(dir, {}, ["python3", "-c", "print('script ran')"]);
        assert.strictEqual(third.status, 1);
        assert.ok(!third.stdout.includes("script ran"));
        assert.match(third.stdout, /not starting again: this node failed for good \(ModuleNotFoundError: No module named 'nope'\)/);
    });

    it("stops a healthy node when another node of the same run has failed for good (exit 143)", () => {
        const control = path.join(dir, "control", "run1");
        fs.mkdirSync(control, { recursive: true });
        const peer = { node: "ddp-node-0", rank: 0, exitCode: 2, error: "train.py: error: bad", reason: "r", time: Date.now() / 1000, runId: "run1" };
        fs.writeFileSync(path.join(control, "verdict-ddp-node-0.json"), JSON.stringify(peer));
        const started = Date.now();
        const run = runAgent(dir, {}, ["python3", "-c", "import time; time.sleep(20)"]);
        assert.strictEqual(run.status, 143);
        assert.ok(Date.now() - started < 10_000, "stopped at once");
        assert.deepStrictEqual(run.verdicts.map((v) => [v.node, v.stoppedBy, v.exitCode, v.error]), [
            ["ddp-node-1", "ddp-node-0", 143, "train.py: error: bad"],
        ]);
    });

    it("ignores the verdicts of another run", () => {
        const control = path.join(dir, "control", "old-run");
        fs.mkdirSync(control, { recursive: true });
        const peer = { node: "ddp-node-0", rank: 0, exitCode: 2, error: "e", reason: "r", time: Date.now() / 1000, runId: "old-run" };
        fs.writeFileSync(path.join(control, "verdict-ddp-node-0.json"), JSON.stringify(peer));
        const run = runAgent(dir, { rank: 0 }, ["python3", "-c", "print('trained')"]);
        assert.deepStrictEqual([run.status, run.stdout], [0, "trained\n"]);
        assert.ok(!fs.existsSync(control), "rank 0 removes the records of earlier runs");
    });

    it("gives the workers the whole grace period on SIGTERM, then ends torchrun", () => {
        // A "torchrun" that kills its worker as soon as it gets SIGTERM (the real one does after 30 s); the worker
        // needs 3 s to finish. Frozen by the agent, this torchrun cannot kill it.
        const torchrun = path.join(dir, "torchrun.py");
        const marker = path.join(dir, "worker-finished");
        fs.writeFileSync(
            torchrun,
            [
                "import signal, subprocess, sys, time",
                "worker = subprocess.Popen([sys.executable, '-c', " +
                    JSON.stringify(
                        `import signal, time, sys\n` +
                            `signal.signal(signal.SIGTERM, lambda *a: (time.sleep(3), open(${JSON.stringify(marker)}, 'w').write('ok'), sys.exit(0)))\n` +
                            `time.sleep(60)`,
                    ) +
                    "])",
                "signal.signal(signal.SIGTERM, lambda *a: (worker.kill(), sys.exit(1)))  # what torchrun does too early",
                "worker.wait()",
                "sys.exit(0)",
            ].join("\n"),
        );
        const child = require("child_process").spawn(
            "python3",
            [AGENT, JSON.stringify({ node: "n", rank: 1, controlDir: path.join(dir, "c"), graceSeconds: 20, failFastExitCodes: [2], failFastRepeats: 2, stateDir: path.join(dir, "s") }), "python3", torchrun],
            { stdio: ["ignore", "pipe", "pipe"] },
        );
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d));
        return new Promise<void>((resolve, reject) => {
            setTimeout(() => child.kill("SIGTERM"), 1500);
            child.on("close", (code: number) => {
                try {
                    assert.ok(fs.existsSync(marker), `the worker finished its SIGTERM work: ${out}`);
                    assert.strictEqual(code, 0, out);
                    assert.match(out, /SIGTERM: asking 1 worker\(s\) to stop; up to 20 s to finish/);
                    resolve();
                } catch (e) {
                    reject(e);
                }
            });
        });
    });

    it("with stopExitCode (Kubernetes), exits with it when stopped, even though the workers stopped cleanly, and leaves a stop note", () => {
        const torchrun = path.join(dir, "torchrun.py");
        fs.writeFileSync(torchrun, "import signal, subprocess, sys\nw = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\nw.wait()\nsys.exit(0)\n");
        const config = { node: "pod-1", rank: 1, controlDir: path.join(dir, "c"), graceSeconds: 10, failFastExitCodes: [2], failFastRepeats: 2, stateDir: path.join(dir, "s"), stopExitCode: 143 };
        const child = require("child_process").spawn("python3", [AGENT, JSON.stringify(config), "python3", torchrun], {
            stdio: ["ignore", "pipe", "pipe"],
            env: { ...process.env, DDPSIM_RUN_ID: "run1" },
        });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d));
        return new Promise<void>((resolve, reject) => {
            setTimeout(() => child.kill("SIGTERM"), 1500);
            child.on("close", (code: number) => {
                try {
                    assert.strictEqual(code, 143, out);
                    assert.match(out, /SIGTERM: stopped before the script finished: exiting 143 \(a Job counts exit 0 as this node done for good\)/);
                    const note = JSON.parse(fs.readFileSync(path.join(dir, "c", "run1", "stop-pod-1.json"), "utf8"));
                    assert.deepStrictEqual([note.node, note.signal, note.runId], ["pod-1", "SIGTERM", "run1"]);
                    resolve();
                } catch (e) {
                    reject(e);
                }
            });
        });
    });

    it("with stopExitCode, a node whose workers ended cleanly because a peer was stopped exits with it; an older note is ignored", () => {
        const notes = path.join(dir, "control", "run1");
        fs.mkdirSync(notes, { recursive: true });
        const old = { node: "ddp-node-0", signal: "SIGTERM", time: Date.now() / 1000 - 100, runId: "run1" };
        fs.writeFileSync(path.join(notes, "stop-ddp-node-0.json"), JSON.stringify(old));
        const finished = runAgent(dir, { stopExitCode: 143 }, ["python3", "-c", "print('trained')"]);
        assert.deepStrictEqual([finished.status, finished.stdout], [0, "trained\n"], "a note from before this node started is another pod's");
        // The peer is stopped while this node's workers run: they stop cleanly too (exit 0), the run is not done.
        const peerStopped = `import json, time; open(${JSON.stringify(path.join(notes, "stop-ddp-node-0.json"))}, 'w').write(json.dumps({"node": "ddp-node-0", "signal": "SIGTERM", "time": time.time(), "runId": "run1"}))`;
        const stopped = runAgent(dir, { stopExitCode: 143 }, ["python3", "-c", peerStopped]);
        assert.strictEqual(stopped.status, 143, stopped.stdout);
        assert.match(stopped.stdout, /the workers stopped because ddp-node-0 was stopped \(SIGTERM\) before the script finished: exiting 143/);
        const docker = runAgent(dir, {}, ["python3", "-c", peerStopped]);
        assert.strictEqual(docker.status, 0, "without stopExitCode (Docker) a clean stop is 0");
    });

    it("starts torchrun as runAs after shaping (root), or says in one verdict why it cannot", () => {
        const run = runAgent(dir, { runAs: "65534:65534" }, ["python3", "-c", "import os; print(os.getuid(), os.getgid())"]);
        if (process.getuid!() === 0) {
            assert.deepStrictEqual([run.status, run.stdout], [0, "65534 65534\n"]);
        } else {
            assert.strictEqual(run.status, 126);
            assert.match(run.verdicts[0].error, /^ddpsim: cannot start python3 as user 65534:65534: /);
        }
        const unknown = runAgent(dir, { runAs: "no-such-user" }, ["python3", "-c", "print('ran')"]);
        assert.strictEqual(unknown.status, 126);
        assert.match(unknown.stderr, /^ddpsim: cannot start python3 as user no-such-user: .*no-such-user/);
    });

    it("sets the NCCL socket defaults when the node has the CPUs, without overriding what its env sets", () => {
        const print = ["python3", "-c", "import os; print(os.environ.get('NCCL_NSOCKS_PERTHREAD'), os.environ.get('NCCL_SOCKET_NTHREADS'))"];
        const env = { NCCL_NSOCKS_PERTHREAD: "2", NCCL_SOCKET_NTHREADS: "4" };
        const enough = runAgent(dir, { ncclSockets: { env, minCpus: 1 } }, print, { NCCL_SOCKET_NTHREADS: "1" });
        assert.match(enough.stdout, /^\[ddpsim ddp-node-1\] NCCL sockets between nodes: NCCL_NSOCKS_PERTHREAD=2 \(\d+ CPUs\)\n2 1\n$/);
        const few = runAgent(dir, { ncclSockets: { env, minCpus: 100000 } }, print);
        assert.match(few.stdout, /NCCL socket settings left at NCCL's defaults: \d+ CPUs here, the tuned ones need 100000\nNone None\n$/);
    });

    describe("shaping the link", () => {
        let bin: string;
        beforeEach(() => {
            bin = path.join(dir, "bin");
            fs.mkdirSync(bin);
        });

        function withFakeTc(preset: string, say: string, code: number): AgentRun & { calls: string[] } {
            fs.writeFileSync(path.join(bin, "tc"), `#!/bin/sh\necho "$*" >> "${bin}/calls"\necho '${say}' >&2\nexit ${code}\n`, { mode: 0o755 });
            const shaping = shapingConfig(resolveInterconnect(preset as any, {}), "eth0");
            const run = runAgent(dir, { shaping }, ["python3", "-c", "import sys; print('torchrun', *sys.argv[1:])", "it's", "$ran"], {
                PATH: `${bin}:${process.env.PATH}`,
            });
            const calls = fs.existsSync(path.join(bin, "calls")) ? fs.readFileSync(path.join(bin, "calls"), "utf8").trim().split("\n") : [];
            return { ...run, calls };
        }

        it("shapes, says so in one line, then runs the command with its arguments intact", () => {
            const run = withFakeTc("100mbit", "", 0);
            assert.strictEqual(run.status, 0, run.stderr);
            assert.deepStrictEqual(run.calls, ["qdisc replace dev eth0 root handle 1: tbf rate 100mbit burst 100000 latency 50ms"]);
            assert.strictEqual(run.stdout, '[ddpsim ddp-node-1] interconnect "100mbit" on eth0: 100 Mbit/s\ntorchrun it\'s $ran\n');
        });

        it("stops at the first qdisc the kernel lacks: one line, exit 78, a verdict, the command never runs", () => {
            const run = withFakeTc("congested", "Error: Specified qdisc kind is unknown.", 2);
            assert.strictEqual(run.status, 78);
            assert.strictEqual(run.calls.length, 1);
            const plan = resolveInterconnect("congested", {});
            const expected = missingQdiscMessage(plan, tcCommands(plan.link, "eth0")[0]);
            assert.strictEqual(run.stderr, `${expected}\n`);
            assert.deepStrictEqual(run.verdicts.map((v) => [v.exitCode, v.error]), [[78, expected]]);
            assert.ok(!run.stdout.includes("torchrun"));
        });

        it("explains a missing NET_ADMIN in one line", () => {
            const run = withFakeTc("1gbe", "RTNETLINK answers: Operation not permitted", 2);
            assert.strictEqual(run.status, 78);
            assert.match(run.stderr, /^ddpsim: interconnect "1gbe": tc needs the NET_ADMIN capability, which uid \d+ lacks: run the node as root/);
            assert.strictEqual(run.stderr.trim().split("\n").length, 1);
        });

        it("reports any other tc failure with the command and tc's words, on one line", () => {
            const run = withFakeTc("1gbe", 'Cannot find device "eth0"\nsecond line', 1);
            assert.strictEqual(run.status, 78);
            assert.strictEqual(
                run.stderr,
                'ddpsim: interconnect "1gbe": tc qdisc replace dev eth0 root handle 1: tbf rate 1000mbit burst 1000000 ' +
                    'latency 50ms failed: Cannot find device "eth0" second line\n',
            );
        });
    });
});
