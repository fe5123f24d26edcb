import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { buildProgram } from "../../cli";

const ROOT = path.resolve(__dirname, "..", "..");
const action = parse(fs.readFileSync(path.join(ROOT, "action.yml"), "utf8"));
const steps: { name?: string; run?: string; uses?: string }[] = action.runs.steps;
const script = steps.map((s) => s.run ?? "").join("\n");

describe("the GitHub Action (action.yml)", () => {
    it("is a composite action with the inputs docs/check.md names", () => {
        assert.strictEqual(action.runs.using, "composite");
        for (const input of ["code", "script", "module", "args", "nodes", "require-resume", "out"]) assert.ok(input in action.inputs, input);
    });

    it("runs only files this repository has", () => {
        const files = [...script.matchAll(/\$GITHUB_ACTION_PATH\/([\w./-]+)/g), ...script.matchAll(/bash (training\/[\w./-]+)/g)].map((m) => m[1]);
        assert.ok(files.length >= 4, files.join(", "));
        for (const file of files.filter((f) => !f.startsWith("bin/"))) assert.ok(fs.existsSync(path.join(ROOT, file)), file);
        assert.ok(files.includes("bin/cli/main.js"), "runs the built CLI (npm ci builds it)");
    });

    it("passes ddpsim check only flags it has", () => {
        const check = buildProgram().commands.find((c) => c.name() === "check")!;
        const known = new Set(check.options.map((o) => o.long));
        const run = steps.find((s) => s.name === "ddpsim check")!.run!;
        const used = [...run.matchAll(/[( ](--[a-z-]+)\b/g)].map((m) => m[1]);
        assert.ok(used.length >= 6, used.join(" "));
        for (const flag of used) assert.ok(known.has(flag), `${flag} is not a flag of ddpsim check`);
    });
});
