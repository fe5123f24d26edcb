/** training/plot_metrics.py's reading of metrics.jsonl (the drawing itself runs in the image: tests/e2e/compose.test.ts). */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const root = path.resolve(__dirname, "..", "..");

function attempts(lines: string[]): { steps: number[][]; summary: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-plot-"));
    try {
        const file = path.join(dir, "metrics.jsonl");
        fs.writeFileSync(file, lines.join("\n") + "\n");
        const script =
            "import json, sys; sys.path.insert(0, sys.argv[1]); import plot_metrics as p; " +
            "rows = p.read_metrics(sys.argv[2]); a = p.split_attempts(rows); " +
            "print(json.dumps({'steps': [[r['step'] for r in x] for x in a], 'summary': p.summary(rows, a)}))";
        return JSON.parse(execFileSync("python3", ["-c", script, path.join(root, "training"), file], { encoding: "utf8" }));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const line = (step: number, restarts = 0) =>
    JSON.stringify({ step, loss: 2 / step, samples_per_s: 100, step_time_s: 0.1, world_size: 2, restarts, time: step });

describe("plot_metrics.py (reading a run)", () => {
    it("splits a run where it resumed: the step went back (Docker restarted a node) or torchrun counted a restart", () => {
        const result = attempts([
            line(1), line(2), line(3), line(4),
            '{"step": 5, "loss": 0.4', // cut short by the crash
            line(3), line(4), line(5), // resumed from the step-2 checkpoint in a new container
            line(6, 1), line(7, 1), // torchrun restarted the workers, which resumed at once
        ]);
        assert.deepStrictEqual(result.steps, [[1, 2, 3, 4], [3, 4, 5], [6, 7]]);
        assert.strictEqual(result.summary, "world size 2, steps 1..7, 9 logged, 2 restarts, loss 2.0000 -> 0.2857");
    });

    it("keeps an uninterrupted run in one piece", () => {
        assert.deepStrictEqual(attempts([line(1), line(2), "", line(3)]).steps, [[1, 2, 3]]);
    });
});
