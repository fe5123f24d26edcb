/** The README's configuration reference is generated from Pulumi.yaml (scripts/gen-config-docs.ts, `npm run docs`). */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { configReference, currentReference, END, START, withReference } from "../../scripts/gen-config-docs";

const root = path.resolve(__dirname, "..", "..");

describe("the generated configuration reference (npm run docs)", () => {
    it("matches Pulumi.yaml in README.md: run `npm run docs` after changing the config schema", () => {
        const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
        const expected = configReference(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
        const current = currentReference(readme);
        assert.ok(current !== undefined, `README.md lacks the markers ${START} ... ${END}`);
        assert.strictEqual(current, expected, "README.md's configuration reference is stale: run `npm run docs`");
    });

    it("renders key, type, default and description, one row per setting, in the schema's order", () => {
        const yaml = [
            "name: demo",
            "runtime: nodejs",
            "config:",
            "  nodes: {type: integer, default: 2, description: Number of nodes.}",
            "  gpuIds: {type: array, items: {type: string}, description: 'Ids | UUIDs, default 0..n*g-1 of <host>.'}",
            "  linkLatencyMs: {description: Delay in ms.}",
            "  image: {type: string, default: 'a:b', description: The image.}",
        ].join("\n");
        assert.strictEqual(
            configReference(yaml),
            [
                "<!-- Generated from Pulumi.yaml by `npm run docs`: edit the descriptions there, not here. -->",
                "",
                "| Key | Type | Default | Description |",
                "| --- | --- | --- | --- |",
                "| `demo:nodes` | integer | `2` | Number of nodes. |",
                "| `demo:gpuIds` | list of string | none | Ids \\| UUIDs, default 0..n\\*g-1 of &lt;host&gt;. |",
                "| `demo:linkLatencyMs` | number | none | Delay in ms. |",
                "| `demo:image` | string | `a:b` | The image. |",
            ].join("\n"),
        );
    });

    it("replaces only the region between the markers, and refuses a README without them", () => {
        const readme = `# Title\n\nbefore\n${START}\nold table\n${END}\nafter\n`;
        assert.strictEqual(withReference(readme, "NEW"), `# Title\n\nbefore\n${START}\nNEW\n${END}\nafter\n`);
        assert.strictEqual(currentReference(withReference(readme, "NEW")), "NEW");
        assert.throws(() => withReference("# no markers\n", "NEW"), /README.md needs the markers/);
    });
});
