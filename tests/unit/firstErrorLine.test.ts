/**
 * One rule for "the first error line" of a node's log, written twice: in the node agent (training/node_agent.py),
 * whose verdict names the error, and in the CLI (cli/logs/errorLine.ts), which reads logs that have no verdict. Both
 * are held to the same logs (tests/fixtures/logs, first-errors.json), and the CLI shows the agent's verdict error.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { clusterVerdict, factsOf, firstErrorLine, splitTimestamp } from "../../cli";
import { packageTrainingDir } from "../../components/plan";

const FIXTURES = path.resolve(__dirname, "..", "fixtures", "logs");
const EXPECTED: Record<string, string | null> = JSON.parse(fs.readFileSync(path.join(FIXTURES, "first-errors.json"), "utf8"));
const LOGS = Object.keys(EXPECTED).filter((key) => key.endsWith(".log"));
const linesOf = (log: string) => fs.readFileSync(path.join(FIXTURES, log), "utf8").replace(/\n$/, "").split("\n");

/** The agent's first_error_line of every fixture, in one python3 run. */
function agentFirstErrors(): Record<string, string | null> {
    const script = [
        "import json, sys",
        "sys.path.insert(0, sys.argv[1])",
        "import node_agent",
        "logs = json.loads(sys.argv[3])",
        "print(json.dumps({log: node_agent.first_error_line(open(f'{sys.argv[2]}/{log}').read().splitlines()) for log in logs}))",
    ].join("\n");
    const run = spawnSync("python3", ["-c", script, packageTrainingDir(), FIXTURES, JSON.stringify(LOGS)], { encoding: "utf8" });
    assert.strictEqual(run.status, 0, run.stderr);
    return JSON.parse(run.stdout);
}

describe("the first error line: one rule for the node agent and the CLI (tests/fixtures/logs)", function () {
    this.timeout(120_000);

    it("has a fixture for every expectation and an expectation for every fixture", () => {
        const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".log")).sort();
        assert.deepStrictEqual(files, [...LOGS].sort());
        assert.ok(LOGS.length >= 15);
    });

    for (const log of LOGS) {
        it(`the CLI finds ${EXPECTED[log] === null ? "no error" : JSON.stringify(EXPECTED[log])} in ${log}`, () => {
            assert.strictEqual(firstErrorLine(linesOf(log)) ?? null, EXPECTED[log]);
        });
    }

    it("the node agent finds the same line in every fixture", () => {
        assert.deepStrictEqual(agentFirstErrors(), Object.fromEntries(LOGS.map((log) => [log, EXPECTED[log]])));
    });

    it("the agent's verdict names that line, and the CLI shows the verdict's error", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-first-error-"));
        try {
            // A torchrun stand-in: prints the log as the worker's output, then reports the worker's usage error (exit 2).
            const torchrun = path.join(dir, "torchrun.py");
            fs.writeFileSync(torchrun, [
                "import sys, time",
                "sys.stderr.write(open(sys.argv[1]).read()); sys.stderr.flush()",
                "print('E1128 10:00:00.000000 7 torch/distributed/elastic/multiprocessing/api.py:869] failed (exitcode: 2) local_rank: 0 (pid: 12) of binary: /usr/bin/python3', file=sys.stderr, flush=True)",
                "time.sleep(10)",
            ].join("\n"));
            for (const log of LOGS) {
                const config = { node: "ddp-node-1", rank: 1, controlDir: path.join(dir, log, "control"), stateDir: path.join(dir, log, "state"), graceSeconds: 5, failFastExitCodes: [2], failFastRepeats: 2 };
                const run = spawnSync("python3", [path.join(packageTrainingDir(), "node_agent.py"), JSON.stringify(config), "python3", torchrun, path.join(FIXTURES, log)], {
                    encoding: "utf8",
                    env: { ...process.env, DDPSIM_RUN_ID: "run1" },
                    timeout: 30_000,
                });
                assert.strictEqual(run.status, 2, `${log}: ${run.stdout}${run.stderr}`);
                const output = `${run.stderr}${run.stdout}`.replace(/\n$/, "").split("\n");
                const verdictLine = output.find((l) => l.startsWith("DDPSIM_VERDICT "));
                assert.ok(verdictLine !== undefined, `${log}: no verdict in ${run.stdout}`);
                const verdict = JSON.parse(verdictLine.slice("DDPSIM_VERDICT ".length));
                assert.strictEqual(verdict.error, EXPECTED[log] ?? "exit code 2", log);

                const facts = factsOf(output.map((text) => splitTimestamp(`2026-11-28T07:00:00.000000000Z ${text}`)));
                const shown = clusterVerdict([{ node: "ddp-node-1", rank: 1, state: "exited", exitCode: 2, facts }], Date.now(), 300);
                assert.strictEqual(shown.status === "failed" ? shown.error : undefined, verdict.error, log);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
