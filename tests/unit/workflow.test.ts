/** The GitHub Actions workflow: valid YAML, preview on pull requests with the official Pulumi action, up by hand. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

const root = path.resolve(__dirname, "..", "..");
const workflow = parse(fs.readFileSync(path.join(root, ".github", "workflows", "preview.yml"), "utf8"));

type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
const pulumiStep = (steps: Step[]) => steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));

describe("the pull-request workflow (.github/workflows/preview.yml)", () => {
    it("runs on pull requests, and by hand only for pulumi up", () => {
        assert.deepStrictEqual(Object.keys(workflow.on).sort(), ["pull_request", "workflow_dispatch"]);
        assert.strictEqual(workflow.jobs.preview.if, "github.event_name == 'pull_request'");
        assert.strictEqual(workflow.jobs.up.if, "github.event_name == 'workflow_dispatch'");
        assert.strictEqual(workflow.permissions["pull-requests"], "write");
    });

    it("installs, runs the unit tests, then previews the dev stack with a diff posted on the PR", () => {
        const steps: Step[] = workflow.jobs.preview.steps;
        assert.deepStrictEqual(
            steps.map((s) => s.uses ?? s.run),
            ["actions/checkout@v4", "actions/setup-node@v4", "npm ci", "npm run test:unit", "pulumi/actions@v7"],
        );
        assert.strictEqual(steps[1].with?.["node-version"], 24);
        assert.deepStrictEqual(pulumiStep(steps)[0].with, {
            command: "preview",
            "stack-name": "dev",
            diff: true,
            "comment-on-pr": true,
            "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
        });
    });

    it("runs pulumi up in no other job than the manual one", () => {
        for (const [name, job] of Object.entries<any>(workflow.jobs)) {
            const commands = pulumiStep(job.steps).map((s) => s.with?.command);
            assert.deepStrictEqual(commands, name === "up" ? ["up"] : ["preview"], name);
        }
        assert.strictEqual(pulumiStep(workflow.jobs.up.steps)[0].with?.["stack-name"], "${{ inputs.stack }}");
    });
});
