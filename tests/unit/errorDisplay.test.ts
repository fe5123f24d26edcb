/**
 * What `pulumi up` shows for bad configuration, through the Node.js language host's own program runner
 * (@pulumi/pulumi/cmd/run; tests/support/programRunner.ts drives it with the language host's arguments): the message
 * alone, no "unhandled exception", no JavaScript stack, no internal error dump.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { REPO_ROOT } from "../support/stackFiles";

function runProgram(program: string, config: Record<string, string>) {
    const run = spawnSync(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", path.join(REPO_ROOT, "tests", "support", "programRunner.ts"), program, JSON.stringify(config)],
        { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 },
    );
    // Lines the runner logged as errors, and anything that looks like a stack trace or an internal dump.
    const errors = run.stderr.split("\n").filter((l) => !l.startsWith("warning: ") && !l.startsWith("Error while signaling shutdown"));
    return { status: run.status, text: errors.join("\n").trim(), stderr: run.stderr };
}

function assertClean(stderr: string): void {
    assert.doesNotMatch(stderr, /unhandled exception/i);
    assert.doesNotMatch(stderr, /^\s+at /m, "no stack frame");
    assert.doesNotMatch(stderr, /__pulumi|InputPropertiesError|DdpConfigError/);
}

describe("config errors as `pulumi up` prints them (the language host's program runner)", function () {
    this.timeout(120_000);

    it("bad stack config: the message alone, every bad key named", () => {
        const run = runProgram(path.join(REPO_ROOT, "index.ts"), { "ddpsim:nodes": "0", "ddpsim:masterPort": "70000" });
        assert.strictEqual(run.status, 32, run.stderr);
        assertClean(run.stderr);
        assert.strictEqual(
            run.text,
            [
                'error: [runtime] Invalid stack config for stack "dev":',
                "  - ddpsim:nodes must be a whole number from 1 to 256, got 0",
                "  - ddpsim:masterPort must be a whole number from 1 to 65535, got 70000",
            ].join("\n"),
        );
    });

    it("bad DdpCluster arguments from another program: the message alone", () => {
        const run = runProgram(path.join(REPO_ROOT, "tests", "fixtures", "programs", "badCluster.ts"), {});
        assert.strictEqual(run.status, 32, run.stderr);
        assertClean(run.stderr);
        assert.strictEqual(
            run.text,
            [
                'error: [runtime] Invalid arguments for DdpCluster "trainers":',
                "  - nodes must be a whole number from 1 to 256, got 0",
                "  - masterPort must be a whole number from 1 to 65535, got 70000",
            ].join("\n"),
        );
    });
});
