import * as assert from "assert";
import { checkJson, CheckSummary, findings, junitXml, markdownSummary, textSummary, xmlEscape } from "../../../cli/check";
import { okRun } from "./fixtures";

function summary(checksums: [string, string]): CheckSummary {
    const runs = [okRun(checksums)];
    return {
        command: "train.py 3 1",
        codeDir: "/src/app",
        image: "ddpsim-cpu:latest",
        worldSizes: [2],
        startedAt: "2026-12-03T10:00:00.000Z",
        seconds: 161,
        findings: findings({ plain: runs, lostNode: { skipped: "--no-lost-node" }, requireResume: false }),
        runs,
    };
}

describe("check: the reports (cli/check/junit.ts, summary.ts)", () => {
    it("JUnit: one test case per finding, failures with their message and evidence, skips, counts", () => {
        const xml = junitXml({ name: "train.py 3 1", timestamp: "2026-12-03T10:00:00.000Z", seconds: 161 }, summary(["a", "b"]).findings);
        assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="ddpsim check" tests="4" failures="1" errors="0" skipped="1" time="161.0">/);
        assert.strictEqual((xml.match(/<testcase /g) ?? []).length, 4);
        assert.match(xml, /<testcase classname="ddpsim.check" name="ranks agree" time="0.0">\n {6}<failure message="2 nodes: module 0 \(Sequential, 2177 values\): rank 1 differs from rank 0 in 0.weight" type="ddpsim.check.ranks-agree">checks: /);
        assert.match(xml, /<testcase classname="ddpsim.check" name="survives a lost node" time="0.0">\n {6}<skipped message="not run: --no-lost-node"\/>/);
    });

    it("escapes XML and drops control characters", () => {
        assert.strictEqual(xmlEscape(`a<b & "c" \u001b[31mred`), "a&lt;b &amp; &quot;c&quot; [31mred");
    });

    it("Markdown: the verdict, a table of findings, a failure's evidence open, the runs", () => {
        const md = markdownSummary(summary(["a", "b"]));
        assert.match(md, /^## ddpsim check: ❌ failed: 1 of 4 findings failed\n/);
        assert.match(md, /\n\| ❌ \| ranks agree \| 2 nodes: module 0 \(Sequential, 2177 values\): rank 1 differs from rank 0 in 0.weight \|\n/);
        assert.match(md, /\n\| ⏭️ \| survives a lost node \| not run: --no-lost-node \|\n/);
        assert.match(md, /\n### ❌ ranks agree\n\nChecks: at the end, every module/);
        assert.match(md, /\n\| 2 nodes \| 2 \| 10 s \| 20 s \| 5 s \| every node exited 0 \|\n/);
        assert.match(markdownSummary(summary(["a", "a"])), /^## ddpsim check: ✅ passed: 3 of 4 findings passed\n/);
    });

    it("text for the terminal and check.json agree with the findings", () => {
        const s = summary(["a", "a"]);
        assert.match(textSummary(s), /^ddpsim check: passed: 3 of 4 findings passed \(2m41s\)\n {2}PASS {2}runs on 2 nodes: /);
        const json = checkJson(s, 0) as { passed: boolean; findings: { id: string }[]; runs: { status: string; ranks: { modules: { checksum: string }[] }[] }[] };
        assert.strictEqual(json.passed, true);
        assert.deepStrictEqual(json.findings.map((f) => f.id), ["runs-2", "no-hang", "ranks-agree", "lost-node"]);
        assert.deepStrictEqual(json.runs[0].ranks.map((r) => r.modules[0].checksum), ["a", "a"]);
    });
});
