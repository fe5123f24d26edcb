/**
 * `ddpsim check` as a CI job runs it (the built CLI, the real Pulumi CLI and Node.js language host, the CPU image) on
 * six scripts written the way tutorials write them (tests/fixtures/check): the correct one and the module pass, the
 * others fail with the right finding. Run with `bash tests/check/run.sh`. The correct script's check runs alone and
 * prints its duration (the target: at most 3 minutes on a 2-CPU machine); the others run two at a time.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureCpuImage } from "../support/cpuImage";
import { pulumiPath } from "../support/realStack";
import { REPO_ROOT } from "../support/stackFiles";
import { CliResult, ddpsim, ensureCliBuilt } from "../e2e/cli/cliProcess";

const FIXTURES = path.join(REPO_ROOT, "tests", "fixtures", "check");

interface Finding {
    id: string;
    status: "pass" | "fail" | "skip";
    summary: string;
    details: string[];
    warning?: boolean;
}

interface Checked extends CliResult {
    out: string;
    json: { passed: boolean; exitCode: number; findings: Finding[]; runs: { label: string; status: string }[] };
}

describe("ddpsim check on six tutorial-style scripts (real engine, CPU image)", function () {
    this.timeout(3_600_000);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-check-suite-"));
    const summaryFile = path.join(scratch, "step-summary.md");
    let image: string;
    let env: NodeJS.ProcessEnv;
    const runs: Record<string, Promise<Checked>> = {};

    async function check(name: string, flags: string[], args: string[] = []): Promise<Checked> {
        const out = path.join(scratch, name);
        const more = name === "snapshot" ? { GITHUB_STEP_SUMMARY: summaryFile } : {};
        const result = await ddpsim(["check", ...flags, "--image", image, "--out", out, "--", ...args], { env: { ...env, ...more }, timeoutMs: 1_200_000 });
        const file = path.join(out, "check.json");
        assert.ok(fs.existsSync(file), `no check.json (exit ${result.code}):\n${result.stdout}\n${result.stderr.slice(-4000)}`);
        const checked = { ...result, out, json: JSON.parse(fs.readFileSync(file, "utf8")) };
        // DDPSIM_CHECK_KEEP=DIR keeps every check's reports (CI artifacts; the example in docs/check.md).
        if (process.env.DDPSIM_CHECK_KEEP) fs.cpSync(out, path.join(process.env.DDPSIM_CHECK_KEEP, name), { recursive: true });
        console.log(`      figure: ddpsim check of ${name}: ${result.seconds.toFixed(0)} s, exit ${result.code}`);
        return checked;
    }

    const finding = (c: Checked, id: string) => c.json.findings.find((f) => f.id === id)!;
    const explain = (c: Checked) => `exit ${c.code}\n${c.stdout}\n--- stderr ---\n${c.stderr.slice(-3000)}`;

    before(async function () {
        this.timeout(3_600_000);
        [image] = await Promise.all([ensureCpuImage(), ensureCliBuilt()]);
        for (const dir of ["home", "state"]) fs.mkdirSync(path.join(scratch, dir));
        env = {
            ...process.env,
            PATH: pulumiPath(),
            PULUMI_HOME: path.join(scratch, "home"), // plugins only from PATH
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            DDPSIM_STATE_DIR: path.join(scratch, "state"),
            NO_COLOR: "1",
        };
        // The correct script alone, so that its duration is the check's own; then the others, two at a time.
        runs.snapshot = check("snapshot", ["--code", path.join(FIXTURES, "snapshot"), "--script", "train.py"], ["3", "1"]);
        const rest: [string, () => Promise<Checked>][] = [
            ["module", () => check("module", ["--code", path.join(FIXTURES, "modpkg"), "--module", "tinyimg.train"])],
            ["uneven", () => check("uneven", ["--code", path.join(FIXTURES, "uneven"), "--script", "train.py"])],
            ["rank0_step", () => check("rank0_step", ["--code", path.join(FIXTURES, "rank0_step"), "--script", "train.py"])],
            ["crash_rank1", () => check("crash_rank1", ["--code", path.join(FIXTURES, "crash_rank1"), "--script", "train.py"])],
            ["rank_lr", () => check("rank_lr", ["--code", path.join(FIXTURES, "rank_lr"), "--script", "train.py"])],
            [
                "scratch",
                () => check("scratch", ["--code", path.join(REPO_ROOT, "tests", "fixtures", "scripts", "modpkg"), "--module", "ddpapp.train", "--nodes", "2", "--require-resume"], ["--steps", "30"]),
            ],
        ];
        const queue = runs.snapshot.catch(() => undefined);
        const lanes = [queue, queue];
        rest.forEach(([name, start], i) => {
            const lane = i % lanes.length;
            runs[name] = lanes[lane].then(start);
            lanes[lane] = runs[name].catch(() => undefined);
        });
        for (const r of Object.values(runs)) r.catch(() => undefined); // each test reports its own
    });

    after(() => fs.rmSync(scratch, { recursive: true, force: true }));

    it("a correct trainer with a relative snapshot passes every finding; the lost node resumes from the snapshot; all four reports", async () => {
        const c = await runs.snapshot;
        assert.strictEqual(c.code, 0, explain(c));
        assert.deepStrictEqual(c.json.findings.map((f) => [f.id, f.status]), [["runs-2", "pass"], ["runs-3", "pass"], ["no-hang", "pass"], ["ranks-agree", "pass"], ["lost-node", "pass"]]);
        const lost = finding(c, "lost-node");
        assert.match(lost.summary, /^resumed at step 64 and finished; 32 step\(s\) redone/, lost.summary);
        assert.ok(!lost.warning);
        const junit = fs.readFileSync(path.join(c.out, "junit.xml"), "utf8");
        assert.match(junit, /<testsuites name="ddpsim check" tests="5" failures="0" errors="0" skipped="0"/);
        const markdown = fs.readFileSync(path.join(c.out, "report.md"), "utf8");
        assert.match(markdown, /^## ddpsim check: ✅ passed: 5 of 5 findings passed\n/);
        assert.strictEqual(fs.readFileSync(summaryFile, "utf8"), `${markdown}\n`, "$GITHUB_STEP_SUMMARY gets the same Markdown");
        assert.deepStrictEqual([...fs.readFileSync(path.join(c.out, "timeline.png")).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
        console.log(`      figure: a correct 2-node check (2 and 3 nodes, then the lost node): ${c.seconds.toFixed(0)} s; ${lost.summary}`);
    });

    it("a package started with --module passes, and resumes from its own checkpoint", async () => {
        const c = await runs.module;
        assert.strictEqual(c.code, 0, explain(c));
        assert.ok(c.json.findings.every((f) => f.status === "pass"), explain(c));
        assert.match(finding(c, "lost-node").summary, /^resumed at step \d+ and finished/);
    });

    it("an optimizer step on rank 0 only fails 'ranks agree', naming the parameters; the runs themselves pass", async () => {
        const c = await runs.rank0_step;
        assert.strictEqual(c.code, 1, explain(c));
        assert.deepStrictEqual(c.json.findings.map((f) => [f.id, f.status]), [["runs-2", "pass"], ["runs-3", "pass"], ["no-hang", "pass"], ["ranks-agree", "fail"], ["lost-node", "skip"]]);
        assert.strictEqual(finding(c, "ranks-agree").summary, "2 nodes: module 0 (ToyModel, 165 values): rank 1 differs from rank 0 in net1.bias, net1.weight, net2.bias, net2.weight");
    });

    it("a learning rate that depends on the rank fails 'ranks agree'", async () => {
        const c = await runs.rank_lr;
        assert.strictEqual(c.code, 1, explain(c));
        assert.strictEqual(finding(c, "ranks-agree").status, "fail");
        assert.match(finding(c, "ranks-agree").summary, /^2 nodes: module 0 \(Sequential, 610 values\): rank 1 differs from rank 0 in /);
        assert.strictEqual(finding(c, "no-hang").status, "pass");
    });

    it("ranks with different numbers of batches fail 'no hang': who waited, who did not arrive and where, each rank's last line", async () => {
        const c = await runs.uneven;
        assert.strictEqual(c.code, 1, explain(c));
        const hang = finding(c, "no-hang");
        assert.strictEqual(hang.status, "fail");
        assert.match(hang.summary, /^2 nodes: rank 0 waited in a collective at step 43 that rank 1 did not arrive at: rank 1 .* at train\.py:44 in main \(`dist\.all_reduce\(val\)`\)$/, hang.summary);
        assert.ok(hang.details.some((d) => d.includes('last line: "rank 1: 3 shards, 42 batches per epoch"')), hang.details.join("\n"));
        assert.ok(hang.details.some((d) => d.includes('last line: "rank 0: 3 shards, 62 batches per epoch"')), hang.details.join("\n"));
        assert.strictEqual(finding(c, "ranks-agree").status, "skip");
    });

    it("an error on rank 1 only fails 'runs on N nodes' with rank 1's error and line, not 'no hang'", async () => {
        const c = await runs.crash_rank1;
        assert.strictEqual(c.code, 1, explain(c));
        for (const id of ["runs-2", "runs-3"]) {
            const f = finding(c, id);
            assert.strictEqual(f.status, "fail");
            assert.match(f.summary, /^rank 1 \(ddp-node-1\) raised ValueError: could not convert string to float: 'n\/a' after \d+ step\(s\) at train\.py:27 in __getitem__/, f.summary);
        }
        assert.notStrictEqual(finding(c, "no-hang").status, "fail");
    });

    it("a script that saves nothing restarts from scratch after the lost node: a warning, and a failure with --require-resume", async () => {
        const c = await runs.scratch;
        assert.strictEqual(c.code, 1, explain(c));
        const lost = finding(c, "lost-node");
        assert.strictEqual(lost.status, "fail");
        assert.match(lost.summary, /^restarted from scratch: the last attempt trained all 30 step\(s\) again \(15 redone\).*\(--require-resume\)$/, lost.summary);
        assert.ok(c.json.findings.filter((f) => f.id !== "lost-node").every((f) => f.status !== "fail"));
    });
});
